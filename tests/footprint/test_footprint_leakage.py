"""Carbon-leakage check (FP-10 … FP-12) on the tiny MRIO and on synthetic systems."""

from __future__ import annotations

import numpy as np
import pytest
from footprint_tiny import tiny

from keten.core.errors import InputError
from keten.footprint.accounts import multipliers
from keten.footprint.leakage import Change, Scenario, leakage
from keten.footprint.synthetic import synthetic_mrio


def scen(
    *changes: Change, threshold: float | None = 0.1, acting: tuple[str, ...] = ("NL",)
) -> Scenario:
    return Scenario("s", acting, "GHG", changes, threshold=threshold)


def test_shift_by_hand() -> None:
    # NL goods output −10, all of it produced in CN instead: Δy = [−10, 0, +10, 0]
    # Δx = L Δy = [1.25·−10, 0, 1·−10 + 2·10, 0] = [−12.5, 0, 10, 0]
    # ΔE_NL = 1 · −12.5 = −12.5; ΔE_CN = 3 · 10 = 30; rate = 30 / 12.5 = 2.4; global +17.5
    res = leakage(tiny(), scen(Change("NL", "goods", "output", -10, shift=1.0)))
    assert res.delta_domestic == pytest.approx(-12.5)
    assert res.delta_foreign == pytest.approx(30.0)
    assert res.delta_global == pytest.approx(17.5)
    assert res.leakage_rate == pytest.approx(2.4)
    assert res.flag is True
    # global change = δ (M_CN.goods − M_NL.goods) = 10 · (6 − 4.25) = 17.5
    assert res.by_region == pytest.approx({"NL": -12.5, "CN": 30.0})


def test_no_shift_gives_negative_leakage() -> None:
    # Δx = [−12.5, 0, −10, 0]: NL −12.5, CN −30 (NL's imported inputs fall too) → rate −2.4
    res = leakage(tiny(), scen(Change("NL", "goods", "final_demand", -10)))
    assert res.delta_foreign == pytest.approx(-30.0)
    assert res.leakage_rate == pytest.approx(-2.4)
    assert res.flag is False


def test_pure_shift_equals_intensity_difference_without_supply_chain() -> None:
    """With A = 0 a pure shift of δ changes global emissions by δ (S_CN − S_NL) and the leakage
    rate is S_CN / S_NL (issue 7 test)."""
    m = tiny(a=np.zeros((4, 4)))
    res = leakage(m, scen(Change("NL", "goods", "output", -8, shift=1.0)))
    s = m.extension("emissions").F[0] / m.x
    assert res.delta_global == pytest.approx(8 * (s[2] - s[0]))
    assert res.leakage_rate == pytest.approx(s[2] / s[0])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_pure_shift_equals_multiplier_difference(seed: int) -> None:
    m = synthetic_mrio(4, 6, 2, 1, seed=seed, inactive_share=0.0)
    M = multipliers(m, m.extension("emissions"))[0]
    s = len(m.sectors)
    j, r, q = 2, 0, 3
    ch = Change(m.regions[r], m.sectors[j], "output", -5.0, shift=1.0, to={m.regions[q]: 1.0})
    res = leakage(m, Scenario("s", (m.regions[r],), "stressor1", (ch,), threshold=0.5))
    assert res.delta_global == pytest.approx(5.0 * (M[q * s + j] - M[r * s + j]), rel=1e-9)


def test_default_shift_weights_follow_output() -> None:
    m = synthetic_mrio(3, 4, 1, 1, seed=4, inactive_share=0.0)
    ch = Change("R01", "s001", "output", -1.0, shift=0.5)
    res = leakage(m, Scenario("s", ("R01",), "stressor1", (ch,)))
    assert res.flag is None  # no threshold given → no flag
    assert res.delta_global == pytest.approx(sum(res.by_region.values()))


def test_no_rate_when_domestic_does_not_fall() -> None:
    res = leakage(tiny(), scen(Change("NL", "services", "final_demand", 5)))
    assert res.leakage_rate is None and res.flag is None and "FP-12" in res.note


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (Change("XX", "goods", "output", -1), "changes[0].region"),
        (Change("NL", "cars", "output", -1), "changes[0].sector"),
        (Change("NL", "goods", "price", -1), "changes[0].kind"),
        (Change("NL", "goods", "output", -1, shift=1.5), "changes[0].shift"),
        (Change("NL", "goods", "output", 1, shift=0.5), "changes[0].shift"),
        (Change("NL", "goods", "output", -1, shift=1, to={"NL": 1.0}), "changes[0].to.NL"),
        (Change("NL", "goods", "output", -1, shift=1, to={"CN": 0.5}), "changes[0].to"),
        (Change("NL", "goods", "output", float("nan")), "changes[0].change"),
    ],
)
def test_bad_scenarios(change: Change, field: str) -> None:
    with pytest.raises(InputError) as err:
        leakage(tiny(), scen(change))
    assert err.value.field == field


def test_an_unknown_name_in_a_later_change_names_that_change() -> None:
    """The second change's region, sector and shift target are reported as ``changes[1]…``."""
    ok = Change("NL", "goods", "output", -1)
    for bad, field in (
        (Change("XX", "goods", "output", -1), "changes[1].region"),
        (Change("NL", "cars", "output", -1), "changes[1].sector"),
        (Change("NL", "goods", "output", -1, shift=1, to={"XX": 1.0}), "changes[1].to.XX"),
    ):
        with pytest.raises(InputError) as err:
            leakage(tiny(), scen(ok, bad))
        assert err.value.field == field


def test_bad_threshold_stressor_and_empty() -> None:
    ch = Change("NL", "goods", "output", -1)
    with pytest.raises(InputError, match="share"):
        leakage(tiny(), scen(ch, threshold=-1))
    with pytest.raises(InputError, match="unknown stressor"):
        leakage(tiny(), Scenario("s", ("NL",), "CO2", (ch,)))
    with pytest.raises(InputError, match="no changes"):
        leakage(tiny(), Scenario("s", ("NL",), "GHG", ()))
