"""Sign-in and sign-out pages of the console."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from govops.auth.service import Throttled
from govops.errors import GovopsError
from govops.i18n import translations
from govops.web.access import public_write
from govops.web.deps import WriteSessionDep
from govops.web.signin import CurrentUser, check_csrf, csrf_token, secure_cookies, set_session_cookie, sign_in, sign_out
from govops.web.templating import locale_of, render

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    # Only a path on this site: an open redirect would let a phishing link borrow our sign-in page.
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def _form(
    request: Request, *, next_url: str, username: str = "", problem: str | None = None, status_code: int = 200
) -> HTMLResponse:
    request.state.csrf_token = csrf_token(request)
    return render(
        request, "signin.html", {"next": next_url, "username": username, "problem": problem}, status_code=status_code
    )


@router.get("/signin", response_class=HTMLResponse)
def signin_page(request: Request, user: CurrentUser, next: str | None = None) -> Response:
    if user is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return _form(request, next_url=_safe_next(next))


@router.post("/signin", response_class=HTMLResponse)
@public_write
def signin_submit(
    request: Request,
    session: WriteSessionDep,
    user: CurrentUser,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    csrf: Annotated[str | None, Form(alias="csrf_token")] = None,
    next: Annotated[str, Form()] = "/",
) -> Response:
    check_csrf(request, csrf)
    gettext = translations(locale_of(request)).gettext
    try:
        token, _ = sign_in(request, session=session, username=username, password=password)
    except Throttled as exc:
        minutes = max(1, round(exc.retry_after / 60))
        problem = gettext("Too many failed attempts. Try again in %(minutes)d minutes.") % {"minutes": minutes}
        response = _form(request, next_url=_safe_next(next), username=username, problem=problem, status_code=429)
        response.headers["Retry-After"] = str(int(exc.retry_after))
        return response
    except GovopsError as exc:
        problem = (
            gettext("Wrong user name or password.")
            if exc.code == "bad_credentials"
            else gettext("This account is disabled. Ask your administrator.")
        )
        return _form(request, next_url=_safe_next(next), username=username, problem=problem, status_code=exc.status)
    redirect = RedirectResponse(_safe_next(next), status_code=303)
    set_session_cookie(redirect, token, secure=secure_cookies(request))
    return redirect


@router.post("/signout")
@public_write
def signout(
    request: Request,
    session: WriteSessionDep,
    user: CurrentUser,
    csrf: Annotated[str | None, Form(alias="csrf_token")] = None,
) -> Response:
    check_csrf(request, csrf)
    response = RedirectResponse("/signin", status_code=303)
    sign_out(request, response, session=session)
    return response


__all__ = ["router"]
