"""The web application: ``create_app`` builds it over a database; ``redress serve`` runs it."""

from __future__ import annotations

import logging
import shutil
import time
import uuid
from collections.abc import Iterable
from pathlib import Path

import anyio
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from redress.admin.errors import AdminError
from redress import i18n
from redress.errors import CaseError
from redress.notify import Notifier
from redress.notify import channels as notify_channels
from redress.store.db import make_engine, migrate, unit_of_work
from redress.web import access_pages, api, documents, ipf_api, ipf_pages, limits, pages, security
from redress.web.runs import Runs

log = logging.getLogger("redress.web")

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
                               "form-action 'self'",
}
HSTS = "max-age=31536000; includeSubDomains"
UPLOADS_KEPT_SECONDS = 24 * 3600        # an upload folder older than this was left by a process that died

# what an error page says, by status: never the request's own words (a link could put text there); message ids,
# translated when the page is shown (``error.html``)
STATUS_PAGES = {
    400: (i18n.N_("Bad request"), i18n.N_("The request could not be read.")),
    401: (i18n.N_("Please sign in again"), i18n.N_("You are not signed in, or your sign-in has expired. "
                                                   "Please sign in again.")),
    403: (i18n.N_("Not allowed"), i18n.N_("You may not see or do this, or the form expired: reload the page and "
                                          "try again.")),
    404: (i18n.N_("Not found"), i18n.N_("There is nothing here, or nothing you may see.")),
    405: (i18n.N_("Not allowed"), i18n.N_("This address does not take this kind of request.")),
    409: (i18n.N_("Refused"), i18n.N_("The request was refused; nothing was changed.")),
    413: (i18n.N_("Too large"), i18n.N_("What was sent is larger than this server accepts.")),
    422: (i18n.N_("Bad request"), i18n.N_("The request is not valid; check the form and try again.")),
    429: (i18n.N_("Too many attempts"), i18n.N_("Please try again later.")),
}
OTHER_PAGE = (i18n.N_("Error"), i18n.N_("The request could not be carried out."))
CRASH_PAGE = (i18n.N_("Something went wrong"), i18n.N_("The error was logged; please quote the reference."))


def create_app(database_url: str | None = None, *, data_dir: Path | None = None, secure_cookies: bool = True,
               run_migrations: bool = True, max_body_bytes: int | None = None,
               max_upload_bytes: int | None = None, max_unpacked_bytes: int | None = None,
               trusted_proxies: Iterable[str] | str | None = None,
               notifier: Notifier | None = None) -> FastAPI:
    """The application over ``database_url`` (default: ``REDRESS_DATABASE_URL`` or the SQLite file).

    ``notifier`` sends investors their e-mails and SMS (default: the one ``REDRESS_SMTP_URL`` and
    ``REDRESS_SMS_OUTBOX`` configure; none when neither is set): ``app.state.notifier``.

    Body limits (``REDRESS_MAX_BODY_BYTES``, ``REDRESS_MAX_UPLOAD_BYTES``, ``REDRESS_MAX_UNPACKED_BYTES``) and
    the proxies whose ``X-Forwarded-For`` / ``X-Forwarded-Proto`` are believed (``REDRESS_TRUSTED_PROXIES``,
    addresses or networks; none by default) come from the arguments, else from the environment."""
    body_limits = limits.Limits.configured(body_bytes=max_body_bytes, upload_bytes=max_upload_bytes,
                                           unpacked_bytes=max_unpacked_bytes)
    proxies = limits.trusted_proxies(trusted_proxies)
    app = FastAPI(title="Redress", version="0.1.0",
                  description="Advance compensation for investors harmed by false statements: cases, plans, "
                              "claims, decisions, payments, the special fund's books and the audit log. "
                              "先行赔付：案件、方案、申报、确认、划付、专项基金账务与审计日志。",
                  docs_url="/api/docs", redoc_url=None, openapi_url="/openapi.json")
    app.state.engine = make_engine(database_url)
    app.state.read_engine = make_engine(database_url, read_only=True)
    if run_migrations:
        migrate(app.state.engine)
    app.state.data_dir = Path(data_dir or Path.cwd() / "redress-data").resolve()
    app.state.data_dir.mkdir(parents=True, exist_ok=True)
    app.state.uploads_dir = app.state.data_dir / "uploads"
    app.state.uploads_dir.mkdir(exist_ok=True)
    _clear_old_uploads(app.state.uploads_dir)
    app.state.secure_cookies = secure_cookies
    app.state.ticket_key = ticket_key(app.state.data_dir)
    app.state.limits = body_limits
    app.state.trusted_proxies = proxies
    app.state.runs = Runs()
    app.state.notifier = notifier if notifier is not None else notify_channels.configured()
    app.include_router(api.router)
    app.include_router(ipf_api.router)
    app.include_router(access_pages.router)
    app.include_router(documents.router)
    app.include_router(pages.router)
    app.include_router(ipf_pages.router)
    app.mount("/static", StaticFiles(directory=str(Path(__file__).parent / "static")), name="static")

    @app.middleware("http")
    async def headers(request: Request, call_next):
        i18n.set_current(request.cookies.get(i18n.COOKIE))      # the visitor's language; Chinese by default
        response = await call_next(request)
        for k, v in SECURITY_HEADERS.items():
            response.headers.setdefault(k, v)
        if limits.is_https(request):
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        if request.url.path.startswith(("/api", "/portal", "/console")):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    def allowed_bytes(scope) -> int:
        """How much this request may send: more with a valid session, most for an operator's upload."""
        token = Request(scope).cookies.get(security.COOKIE)
        if not token:
            return body_limits.anonymous_body_bytes
        with unit_of_work(app.state.read_engine) as s:
            found = security.session_for(s, token)
            roles = set(found[0].roles.split(",")) if found else None
        if roles is None:
            return body_limits.anonymous_body_bytes
        if "operator" in roles and limits.is_upload(scope["method"], scope["path"]):
            return body_limits.upload_bytes
        return body_limits.body_bytes

    async def allowance(scope) -> int:
        return await anyio.to_thread.run_sync(allowed_bytes, scope)

    async def refusal(scope, limit: int) -> Response:
        request = Request(scope)
        i18n.set_current(request.cookies.get(i18n.COOKIE))      # refused before the language middleware runs
        message = limits.too_large_message(limit)
        if wants_html(request):
            response = error_page(request, 413, *STATUS_PAGES[413])
        else:
            response = JSONResponse({"detail": message, "limit_bytes": limit}, status_code=413)
        response.headers.update(SECURITY_HEADERS)
        response.headers["Connection"] = "close"          # the rest of the body is not read
        return response

    # outermost: a body is refused before anything else reads it
    app.add_middleware(limits.BodyLimit, limits=body_limits, allowance=allowance, refusal=refusal)

    def wants_html(request: Request) -> bool:
        return not request.url.path.startswith("/api") and "text/html" in request.headers.get("accept", "")

    @app.exception_handler(AdminError)
    async def admin_error(request: Request, exc: AdminError) -> Response:
        if wants_html(request):
            if exc.status_code == 401:        # back to this page after signing in (a GET only: nothing half-done)
                return Response(status_code=303, headers={"Location": sign_in_then(request)})
            return status_page(request, exc.status_code)
        return api.problem_response(exc)

    @app.exception_handler(CaseError)
    async def case_error(request: Request, exc: CaseError) -> Response:
        body = {"detail": "the case directory has problems / 案件目录有误", "hint": exc.hint,
                "problems": [str(p) for p in exc.problems[:50]]}
        return JSONResponse(body, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if wants_html(request):
            return status_page(request, exc.status_code)
        return JSONResponse({"detail": str(exc.detail)}, status_code=exc.status_code)

    @app.exception_handler(DataError)
    async def data_error(request: Request, exc: DataError) -> Response:
        # a value the database cannot hold or compare (a NUL character, a number out of range): bad input
        log.warning("refused %s %s: %s", request.method, request.url.path, str(exc.orig).splitlines()[0])
        message = "the request holds a value that cannot be stored (e.g. a NUL character) / 请求参数有误"
        if wants_html(request):
            return status_page(request, 422)
        return JSONResponse({"detail": message, "problems": []}, status_code=422)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        problems = [f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']}" for e in exc.errors()]
        if wants_html(request):
            return status_page(request, 422)
        return JSONResponse({"detail": "the request is not valid / 请求参数有误", "problems": problems},
                            status_code=422)

    @app.exception_handler(Exception)
    async def crash(request: Request, exc: Exception) -> Response:
        reference = uuid.uuid4().hex[:12]
        log.exception("unhandled error %s on %s %s", reference, request.method, request.url.path)
        if wants_html(request):
            response = error_page(request, 500, *CRASH_PAGE, reference)
        else:
            response = JSONResponse({"detail": "internal error; it was logged / 系统错误", "reference": reference},
                                    status_code=500)
        # a crash skips the headers middleware (this handler runs outside it): set the headers here
        response.headers.update(SECURITY_HEADERS)
        return response

    return app


def sign_in_then(request: Request) -> str:
    """The sign-in page, returning afterwards to the page that asked for it (a GET's own path and query)."""
    from urllib.parse import quote

    if request.method != "GET":
        return "/login"
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    target = pages.local_path(here, "")
    return f"/login?next={quote(target, safe='/')}" if target and target != "/" else "/login"


def ticket_key(data_dir: Path) -> bytes:
    """The key that signs the short-lived tickets between the two steps of an activation: ``REDRESS_TICKET_KEY``
    if set, else ``ticket.key`` in the data directory (made on first use, readable by this user only), so that
    every worker serving the same data directory, and a restarted one, accepts the others' tickets."""
    import os
    import secrets

    configured = os.environ.get("REDRESS_TICKET_KEY")
    if configured:
        return configured.encode()
    path = data_dir / "ticket.key"
    if not path.exists():
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:           # another worker made it first
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


def _clear_old_uploads(folder: Path) -> None:
    """Remove what uploads left behind when their process died (a refused upload removes its own at once)."""
    now = time.time()
    for entry in folder.iterdir():
        try:
            if now - entry.stat().st_mtime > UPLOADS_KEPT_SECONDS:
                shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
        except OSError as exc:
            log.warning("could not remove the old upload %s: %s", entry, exc)


def status_page(request: Request, status: int) -> HTMLResponse:
    """The error page for ``status``, in the catalogue's words."""
    return error_page(request, status, *STATUS_PAGES.get(status, OTHER_PAGE))


def error_page(request: Request, status: int, title: str, message: str, reference: str | None = None) -> HTMLResponse:
    return pages.templates.TemplateResponse(request, "error.html", {"who": None, "flash": None, "status": status,
                                                                    "title": title, "message": message,
                                                                    "reference": reference}, status_code=status)
