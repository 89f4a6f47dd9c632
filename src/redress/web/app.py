"""The web application: ``create_app`` builds it over a database; ``redress serve`` runs it."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from redress.admin.errors import AdminError
from redress.errors import CaseError
from redress.store.db import make_engine, migrate
from redress.web import api, ipf_api, ipf_pages, pages
from redress.web.runs import Runs

log = logging.getLogger("redress.web")

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
                               "form-action 'self'",
}


def create_app(database_url: str | None = None, *, data_dir: Path | None = None, secure_cookies: bool = True,
               run_migrations: bool = True) -> FastAPI:
    """The application over ``database_url`` (default: ``REDRESS_DATABASE_URL`` or the SQLite file)."""
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
    app.state.secure_cookies = secure_cookies
    app.state.runs = Runs()
    app.include_router(api.router)
    app.include_router(ipf_api.router)
    app.include_router(pages.router)
    app.include_router(ipf_pages.router)
    app.mount("/static", StaticFiles(directory=str(Path(__file__).parent / "static")), name="static")

    @app.middleware("http")
    async def headers(request: Request, call_next):
        response = await call_next(request)
        for k, v in SECURITY_HEADERS.items():
            response.headers.setdefault(k, v)
        if request.url.path.startswith(("/api", "/portal", "/console")):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    def wants_html(request: Request) -> bool:
        return not request.url.path.startswith("/api") and "text/html" in request.headers.get("accept", "")

    @app.exception_handler(AdminError)
    async def admin_error(request: Request, exc: AdminError) -> Response:
        if wants_html(request):
            if exc.status_code == 401:
                return Response(status_code=303, headers={"Location": "/login"})
            return error_page(request, exc.status_code, "Refused / 未执行", str(exc).splitlines()[0])
        return api.problem_response(exc)

    @app.exception_handler(CaseError)
    async def case_error(request: Request, exc: CaseError) -> Response:
        body = {"detail": "the case directory has problems / 案件目录有误", "hint": exc.hint,
                "problems": [str(p) for p in exc.problems[:50]]}
        return JSONResponse(body, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if wants_html(request):
            return error_page(request, exc.status_code, "Not found / 页面不存在" if exc.status_code == 404 else
                              "Error / 错误", str(exc.detail))
        return JSONResponse({"detail": str(exc.detail)}, status_code=exc.status_code)

    @app.exception_handler(DataError)
    async def data_error(request: Request, exc: DataError) -> Response:
        # a value the database cannot hold or compare (a NUL character, a number out of range): bad input
        log.warning("refused %s %s: %s", request.method, request.url.path, str(exc.orig).splitlines()[0])
        message = "the request holds a value that cannot be stored (e.g. a NUL character) / 请求参数有误"
        if wants_html(request):
            return error_page(request, 422, "Bad request / 请求有误", message)
        return JSONResponse({"detail": message, "problems": []}, status_code=422)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        problems = [f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']}" for e in exc.errors()]
        if wants_html(request):
            return error_page(request, 422, "Bad request / 请求有误", "; ".join(problems[:5]))
        return JSONResponse({"detail": "the request is not valid / 请求参数有误", "problems": problems},
                            status_code=422)

    @app.exception_handler(Exception)
    async def crash(request: Request, exc: Exception) -> Response:
        reference = uuid.uuid4().hex[:12]
        log.exception("unhandled error %s on %s %s", reference, request.method, request.url.path)
        if wants_html(request):
            response = error_page(request, 500, "Something went wrong / 系统错误",
                                  "The error was logged; please quote the reference. 错误已记录。", reference)
        else:
            response = JSONResponse({"detail": "internal error; it was logged / 系统错误", "reference": reference},
                                    status_code=500)
        # a crash skips the headers middleware (this handler runs outside it): set the headers here
        response.headers.update(SECURITY_HEADERS)
        return response

    return app


def error_page(request: Request, status: int, title: str, message: str, reference: str | None = None) -> HTMLResponse:
    return pages.templates.TemplateResponse(request, "error.html", {"who": None, "flash": None, "status": status,
                                                                    "title": title, "message": message,
                                                                    "reference": reference}, status_code=status)
