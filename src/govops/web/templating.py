"""Server-rendered pages: one Jinja2 environment, and a page or (for HTMX) a fragment per request."""

from __future__ import annotations

from functools import cache
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, Environment, PackageLoader, PrefixLoader, select_autoescape
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import object_session
from starlette.datastructures import QueryParams

from govops import __version__, i18n
from govops.notify.service import unread_count
from govops.periods import Freq
from govops.web import labels
from govops.web.signin import csrf_token

LANG_COOKIE = "govops_lang"


@cache
def environment() -> Environment:
    env = Environment(
        # The layout and shared pages here; a domain's own templates under its name ("notify/inbox.html").
        loader=ChoiceLoader(
            [
                PackageLoader("govops.web", "templates"),
                PrefixLoader(
                    {
                        "forecast": PackageLoader("govops.forecast", "templates"),
                        "notify": PackageLoader("govops.notify", "templates"),
                        "reporting": PackageLoader("govops.reporting", "templates"),
                        "tasks": PackageLoader("govops.tasks", "templates"),
                        "targets": PackageLoader("govops.targets", "templates"),
                        "quality": PackageLoader("govops.quality", "templates"),
                    }
                ),
            ]
        ),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["version"] = __version__
    env.filters["replace_param"] = replace_param
    return env


def replace_param(params: QueryParams, key: str, value: str) -> str:
    """The query string with `key` set to `value` (for links such as the language switch)."""
    items = [(k, v) for k, v in params.multi_items() if k != key]
    return urlencode([*items, (key, value)])


def _zone(request: Request) -> ZoneInfo:
    return ZoneInfo(request.app.state.settings.timezone)


def locale_of(request: Request) -> str:
    """Vietnamese unless the person chose English (the switch, a cookie, or their account's language)."""
    if hasattr(request.state, "locale"):
        return str(request.state.locale)
    user = getattr(request.state, "user", None)
    locale = i18n.negotiate(
        request.query_params.get("lang"),
        request.cookies.get(LANG_COOKIE),
        getattr(user, "language", None),
    )
    request.state.locale = locale
    return locale


def unread_of(request: Request) -> int:
    """The signed-in user's unread notifications, for the header: one indexed count per page, in the session
    the user was read with (none for anonymous visitors, or once that session is closed, e.g. on error pages)."""
    if hasattr(request.state, "unread_count"):
        return int(request.state.unread_count)
    user = getattr(request.state, "user", None)
    session = object_session(user) if user is not None else None
    count = 0
    if session is not None and user is not None:
        try:
            count = unread_count(session=session, user_id=user.id)
        except SQLAlchemyError:  # a page about a failed request still renders, without the count
            count = 0
    request.state.unread_count = count
    return count


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    fragment: str | None = None,
) -> HTMLResponse:
    """The full page, or only `fragment` (a template of its own) when HTMX asks for a part of it."""
    locale = locale_of(request)
    env = environment()
    translations = i18n.translations(locale)
    name = fragment if fragment is not None and is_htmx(request) else template
    values = {
        "request": request,
        "locale": locale,
        "other_locale": "en" if locale == "vi" else "vi",
        "user": getattr(request.state, "user", None),
        "unread_count": unread_of(request) if name == template else 0,
        # Every page a signed-in user sees carries the token (the sign-out button is a form on all of them).
        "csrf_token": csrf_token(request)
        if getattr(request.state, "user", None) is not None
        else getattr(request.state, "csrf_token", ""),
        "num": lambda value, decimals=1: i18n.number(value, locale, decimals),
        "signed": lambda value, decimals=1: i18n.signed(value, locale, decimals),
        "period_label": lambda text: i18n.period_label(text, locale),
        "freq_label": lambda code: Freq(code).label("vi" if locale == "vi" else "en"),
        "name": lambda item: getattr(item, f"name_{locale}", None) or getattr(item, "name_vi", ""),
        "label": lambda table, code: translations.gettext(labels.english_label(table, code)) if code else "",
        "local_time": lambda moment, seconds=False: labels.local_time(moment, _zone(request), seconds=seconds),
        "problem_message": lambda item: i18n.problem_message(item, locale),
        "problem_hint": lambda item: i18n.problem_hint(item, locale),
        "place_label": lambda where: i18n.place_label(where, locale),
        "field_label": lambda field: i18n.field_label(field, locale),
        "_": translations.gettext,
        "gettext": translations.gettext,
        "ngettext": translations.ngettext,
        **(context or {}),
    }
    html = env.get_template(name).render(values)
    response = HTMLResponse(html, status_code=status_code)
    if request.query_params.get("lang") in i18n.LOCALES:
        response.set_cookie(LANG_COOKIE, locale, max_age=365 * 24 * 3600, samesite="lax", httponly=True)
    response.headers["Content-Language"] = locale
    return response
