"""keten — Dutch and EU emission-reduction rules as working, auditable software."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("keten")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0+unknown"
