"""Login, logout, password change and the account page with API tokens."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from keten.core.errors import KetenError
from keten.registry.service import Actor, AuthError
from keten.store.models import ApiToken, Holder
from keten.web import i18n, ui
from keten.web.api import RowId
from keten.web.security import SESSION_COOKIE, cookie_secure

router = ui.page_router()
_ = i18n.gettext


def _demo_logins(request: Request) -> dict[str, Any]:
    if not request.app.state.demo:
        return {}
    from keten.web.demo import PASSWORD, logins

    return {"demo_logins": logins(ui.registry(request)), "demo_password": PASSWORD}


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/register") -> Response:
    if ui.viewer(request).actor is not None:
        return ui.redirect(ui.safe_next(next))
    return ui.render(request, "login.html", {"next": ui.safe_next(next), **_demo_logins(request)})


@router.post("/login")
def login(
    request: Request,
    username: Annotated[str, Form(max_length=100)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    next: Annotated[str, Form(max_length=500)] = "/register",
) -> Response:
    limiter = request.app.state.login_limiter
    ip = request.client.host if request.client else "?"
    context = {
        "next": ui.safe_next(next),
        "values": {"username": username},
        **_demo_logins(request),
    }
    if limiter.blocked(username, ip):
        return ui.render(
            request,
            "login.html",
            {**context, "errors": {"_form": _("Too many failed attempts. Try again later.")}},
            status=429,
        )
    errors = {}
    if not username.strip():
        errors["username"] = _("Enter your user name.")
    if not password:
        errors["password"] = _("Enter your password.")
    if errors:
        return ui.render(request, "login.html", {**context, "errors": errors}, status=422)
    try:
        actor = ui.registry(request).login(username.strip(), password)
    except AuthError:
        limiter.failed(username, ip)
        return ui.render(
            request,
            "login.html",
            {**context, "errors": {"_form": _("Unknown user name or wrong password.")}},
            status=401,
        )
    limiter.succeeded(username)
    token, _csrf = request.app.state.sessions.start(actor)
    response = ui.redirect(ui.safe_next(next))
    response.set_cookie(
        SESSION_COOKIE,
        token,
        path="/",
        httponly=True,
        samesite="strict",
        secure=cookie_secure(),
    )
    return response


@router.post("/logout")
def logout(request: Request) -> RedirectResponse:
    request.app.state.sessions.end(request.cookies.get(SESSION_COOKIE))
    response = ui.redirect("/", _("You are logged out."))
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _account(request: Request, actor: Actor, **extra: Any) -> dict[str, Any]:
    with ui.registry(request).ledger.sessions() as s:
        tokens = (
            s.execute(
                select(ApiToken).where(ApiToken.user_id == actor.user_id).order_by(ApiToken.id)
            )
            .scalars()
            .all()
        )
        holder = (
            s.execute(select(Holder.name).where(Holder.id == actor.holder_id)).scalar_one_or_none()
            if actor.holder_id is not None
            else None
        )
    return {"tokens": tokens, "holder": holder, **extra}


@router.get("/account", response_class=HTMLResponse)
def account(request: Request, actor: ui.Person) -> HTMLResponse:
    return ui.render(request, "account.html", _account(request, actor))


@router.post("/account/password", response_class=HTMLResponse)
def change_password(
    request: Request,
    actor: ui.Person,
    old: Annotated[str, Form(max_length=1000)] = "",
    new: Annotated[str, Form(max_length=1000)] = "",
    repeat: Annotated[str, Form(max_length=1000)] = "",
    form_key: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    errors: dict[str, str] = {}
    if not old:
        errors["old"] = _("Enter your current password.")
    if len(new) < 12:
        errors["new"] = _("A password has at least 12 characters.")
    elif new == old:
        errors["new"] = _("The new password must differ from the current one.")
    if new != repeat:
        errors["repeat"] = _("The two new passwords differ.")
    if not errors:
        try:
            ui.registry(request).change_password(actor, old, new, key=ui.idem(actor, form_key))
        except AuthError:
            errors["old"] = _("The current password is wrong.")
        except KetenError as exc:
            errors["_form"] = str(exc)
    if errors:
        return ui.render(
            request, "account.html", _account(request, actor, errors=errors), status=422
        )
    signed_in = ui.viewer(request).signed_in
    request.app.state.sessions.end_all(
        actor.user_id, keep=signed_in.session_id if signed_in else None
    )
    return ui.redirect(
        "/account", _("Your password is changed; your other sessions are logged out.")
    )


@router.post("/account/tokens", response_class=HTMLResponse)
def create_token(
    request: Request,
    actor: ui.Person,
    label: Annotated[str, Form(max_length=100)] = "token",
    form_key: Annotated[str, Form(max_length=100)] = "",
) -> HTMLResponse:
    token = ui.registry(request).create_token(actor, label, key=ui.idem(actor, form_key))
    return ui.render(request, "account.html", _account(request, actor, new_token=token))


@router.post("/account/tokens/{token_id}/revoke")
def revoke_token(
    request: Request,
    token_id: RowId,
    actor: ui.Person,
    form_key: Annotated[str, Form(max_length=100)] = "",
) -> RedirectResponse:
    ui.registry(request).revoke_token(actor, token_id, key=ui.idem(actor, form_key))
    return ui.redirect("/account", _("The token is revoked."))
