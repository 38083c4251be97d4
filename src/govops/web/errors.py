"""Every error leaves the API as ``{"error": {"code", "message", "hint"?, "where"?, "problems"?}}``."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from govops import i18n
from govops.errors import GovopsError, Problem, lazy_gettext
from govops.warehouse.formats import unreadable_json
from govops.warehouse.validation import validation_problem

log = structlog.get_logger(__name__)

# The code of a form refused for its security token: its page says how to go on (reload the form).
CSRF_FAILED = "csrf_failed"


class ProblemOut(BaseModel):
    code: str = Field(description="stable machine-readable code, e.g. value.not_a_number, area.unknown, rule.<name>")
    message: str
    row: int | None = None
    where: str | None = None
    field: str | None = None
    value: str | int | float | None = None
    hint: str | None = None


class ErrorDetail(BaseModel):
    code: str = Field(description="stable machine-readable code, e.g. rejected, not_found, invalid_period")
    message: str
    where: str | None = None
    hint: str | None = Field(default=None, description="how to fix it")
    problems: list[ProblemOut] | None = None


class ErrorBody(BaseModel):
    error: ErrorDetail


def _described(text: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": text}


# Documented on every route, so that the OpenAPI description tells clients the one error shape.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _described("bad parameter (period, cursor, frequency, filter...)"),
    404: _described("no such indicator, area or page"),
    409: _described("another request changed the same data at the same time; send again"),
    413: _described("request too large"),
    422: _described("the request or some of its rows failed validation; nothing was written"),
    500: _described("unexpected failure; nothing was written"),
    503: _described("the database is busy or unreachable; try again"),
}


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, **{k: v for k, v in extra.items() if v is not None}}}


def _request_problems(exc: RequestValidationError) -> list[Problem]:
    problems = []
    for err in exc.errors():
        loc = list(err.get("loc", ()))
        row = None
        # ("body", "observations", 3, "value") -> row 4 (counted from 1), field "value"
        if len(loc) >= 3 and loc[0] == "body" and loc[1] == "observations" and isinstance(loc[2], int):
            row, loc = loc[2] + 1, loc[3:]
        elif loc and loc[0] in ("body", "query", "path", "header"):
            loc = loc[1:] if loc[0] == "body" else loc
        problems.append(validation_problem(err, row=row, field=".".join(str(x) for x in loc) or None))
    return problems


def _unreadable_body(exc: StarletteHTTPException) -> GovopsError | None:
    """FastAPI's own JSON parsing of a body, failed on well-formed JSON: nested too deep or an over-long integer.

    FastAPI answers both with a bare "error parsing the body"; the cause says which.
    """
    cause = exc.__cause__
    if exc.status_code != 400 or not isinstance(cause, RecursionError | ValueError):
        return None
    unreadable = unreadable_json(cause)
    return GovopsError(unreadable.message, code="unparseable", status=400, where="body", hint=unreadable.hint)


def _allowed_methods(app: FastAPI, request: Request) -> set[str]:
    methods: set[str] = set()
    for route in app.routes:
        match, _ = route.matches({**request.scope, "method": "GET"})
        if match is not Match.NONE:
            methods |= getattr(route, "methods", None) or set()
    return methods


def wants_html(request: Request) -> bool:
    """Console pages answer errors with a page; the API, health check and static files with JSON."""
    path = request.url.path
    return not (path.startswith(("/api/", "/static/", "/maps/")) or path in ("/healthz", "/openapi.json"))


def _page(request: Request, exc: GovopsError) -> Response:
    from govops.web.templating import render

    context: dict[str, Any] = {"error": exc}
    if exc.code == CSRF_FAILED:
        context["form_page"] = _page_sent_from(request)
    return render(request, "error.html", context, status_code=exc.status)


def _page_sent_from(request: Request) -> str:
    """The page of this site the form was sent from (to reload it), or the overview when it cannot be told."""
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc != request.url.netloc or not referer.path.startswith("/") or referer.path.startswith("//"):
        return "/"
    return referer.path + (f"?{referer.query}" if referer.query else "")


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(GovopsError)
    async def govops_error(request: Request, exc: GovopsError) -> Response:
        if wants_html(request):
            return _page(request, exc)
        locale = i18n.api_locale(request.headers.get("accept-language"))
        if locale != "en":
            # A new plain error: the subclasses (NotFound, Rejected...) build their own wording.
            exc = GovopsError(
                i18n.problem_message(exc, locale),
                code=exc.code,
                hint=i18n.problem_hint(exc, locale),
                where=exc.where,
                status=exc.status,
                problems=[i18n.worded(p, locale) for p in exc.problems],
            )
        return JSONResponse({"error": exc.as_dict()}, status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        problems = _request_problems(exc)
        if wants_html(request):
            where = ", ".join(p.field or "" for p in problems)
            return _page(
                request,
                GovopsError.of(
                    "invalid_request",
                    lazy_gettext("invalid value in %(fields)s"),
                    lazy_gettext("check the address of the page"),
                    status=400,
                    fields=where,
                ),
            )
        return JSONResponse(
            error_body(
                "invalid_request",
                f"{len(problems)} problem(s) in the request; nothing was written",
                hint="fix the fields listed in 'problems'",
                problems=[p.as_dict() for p in problems],
            ),
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        unreadable = _unreadable_body(exc)
        if unreadable is not None:
            return JSONResponse(error_body(**unreadable.as_dict()), status_code=unreadable.status)
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:
            # Starlette names only the first route matching the path; a path may be served by several.
            headers["Allow"] = ", ".join(sorted(_allowed_methods(app, request)))
        if exc.status_code == 404 and wants_html(request):
            return _page(
                request,
                GovopsError.of(
                    "not_found",
                    lazy_gettext("there is no page at this address"),
                    lazy_gettext("use the menu to find the page"),
                    status=404,
                ),
            )
        return JSONResponse(error_body(code, str(exc.detail)), status_code=exc.status_code, headers=headers or None)

    @app.exception_handler(DataError)
    async def bad_data(_request: Request, exc: DataError) -> JSONResponse:
        log.info("value the database refuses", error=str(exc.orig))
        return JSONResponse(
            error_body(
                "invalid_request",
                "a value in the request cannot be stored or searched for",
                hint="remove control characters such as NUL from the request",
            ),
            status_code=400,
        )

    @app.exception_handler(IntegrityError)
    async def conflict(_request: Request, exc: IntegrityError) -> JSONResponse:
        log.warning("write conflict", error=str(exc.orig))
        return JSONResponse(
            error_body(
                "conflict",
                "another request changed the same data at the same time; nothing was written",
                hint="send the request again",
            ),
            status_code=409,
        )

    @app.exception_handler(OperationalError)
    async def unavailable(_request: Request, exc: OperationalError) -> JSONResponse:
        log.error("database unavailable", error=str(exc.orig))
        return JSONResponse(
            error_body(
                "unavailable", "the database is busy or unreachable; nothing was written", hint="try again in a moment"
            ),
            status_code=503,
            headers={"Retry-After": "2"},
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        return unexpected_error(request, exc)

    app.add_middleware(UnexpectedErrors)


def unexpected_error(request: Request, exc: Exception) -> Response:
    """The answer to a failure nobody foresaw: the error page, or the one error shape for the API."""
    log.error("unhandled error", path=request.url.path, exc_info=exc)
    error = GovopsError(
        "something went wrong on our side; nothing was written",
        code="internal",
        status=500,
        hint="try again; if it persists, tell the operator the time of the request",
    )
    if wants_html(request):
        try:
            return _page(request, error)
        except Exception:
            log.exception("the error page failed too", path=request.url.path)
    return JSONResponse({"error": error.as_dict()}, status_code=500)


class UnexpectedErrors:
    """Answers an unhandled error itself, as a whole response on a connection that stays usable.

    Starlette's own last-resort handler sends the 500 and then raises the error again, and the server
    then drops the connection: a client reusing it (keep-alive) fails its next request too. An error
    after the response has started (a stream) cannot be answered any more; it is left to the server.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception as exc:
            if started:
                raise
            response = unexpected_error(Request(scope, receive), exc)
            await response(scope, receive, send)
