"""What a request may send, and from where it comes: body limits, uploads streamed to disk, trusted proxies.

- ``BodyLimit`` (ASGI middleware) refuses a request body past its limit with 413, before the application
  reads it: at once when ``Content-Length`` says so, and while the body streams in otherwise (chunked bodies
  have no length).  Without a valid session a body may hold ``anonymous_body_bytes`` (a sign-in is a few
  hundred bytes); with one ``body_bytes`` (a hearing's minutes run to 100,000 characters); an upload route
  called by an operator ``upload_bytes``.  The session is looked up only when a body outgrows the smaller
  limit, so ordinary requests cost nothing more.
- ``save_upload`` copies an uploaded file to disk in chunks, counting, and refuses it past the limit.
- ``client_address`` is the peer's address, or, when the peer is a configured trusted proxy, the rightmost
  address in ``X-Forwarded-For`` that is not a trusted proxy; without trusted proxies the header is ignored.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from fastapi import Request, UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from redress.admin.errors import AdminError

log = logging.getLogger("redress.web")

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB
CHUNK_BYTES = MIB

# routes that take a file (multipart/form-data); the upload limit applies to them only, for an operator
UPLOAD_ROUTES = (
    "/api/cases",
    "/api/cases/{case_id}/payment-results",
    "/api/cases/{case_id}/fair-fund/results",
    "/api/ipf/firms/{firm_id}/claims",
    "/api/ipf/firms/{firm_id}/records",
    "/api/ipf/firms/{firm_id}/results",
    "/console/cases",
    "/console/cases/{case_id}/do/results",
    "/console/cases/{case_id}/fair-fund/do/results",
)
_UPLOAD = re.compile("|".join("(?:" + re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", re.escape(p)) + ")"
                              for p in UPLOAD_ROUTES))


def is_upload(method: str, path: str) -> bool:
    return method == "POST" and _UPLOAD.fullmatch(path) is not None


@dataclass(frozen=True)
class Limits:
    """Sizes in bytes.  ``unpacked_bytes`` and ``unpacked_files`` bound what an uploaded zip may expand to."""

    anonymous_body_bytes: int = 64 * KIB
    body_bytes: int = MIB
    upload_bytes: int = 512 * MIB
    unpacked_bytes: int = 2 * GIB
    unpacked_files: int = 64

    def __post_init__(self) -> None:
        for name in ("anonymous_body_bytes", "body_bytes", "upload_bytes", "unpacked_bytes",
                     "unpacked_files"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")

    @classmethod
    def configured(cls, environ: Mapping[str, str] | None = None, *, body_bytes: int | None = None,
                   upload_bytes: int | None = None, unpacked_bytes: int | None = None) -> Limits:
        """Arguments first, then ``REDRESS_MAX_BODY_BYTES``, ``REDRESS_MAX_UPLOAD_BYTES`` and
        ``REDRESS_MAX_UNPACKED_BYTES``, then the defaults.  The anonymous limit never exceeds
        ``body_bytes``."""
        env = os.environ if environ is None else environ

        def pick(given: int | None, var: str, default: int) -> int:
            if given is not None:
                return given
            text = env.get(var, "").strip().replace("_", "")
            if not text:
                return default
            try:
                return int(text)
            except ValueError:
                raise ValueError(f"{var} must be a number of bytes, not {text!r}") from None

        body = pick(body_bytes, "REDRESS_MAX_BODY_BYTES", cls.body_bytes)
        return cls(anonymous_body_bytes=min(cls.anonymous_body_bytes, body), body_bytes=body,
                   upload_bytes=pick(upload_bytes, "REDRESS_MAX_UPLOAD_BYTES", cls.upload_bytes),
                   unpacked_bytes=pick(unpacked_bytes, "REDRESS_MAX_UNPACKED_BYTES", cls.unpacked_bytes))


class BodyTooLarge(StarletteHTTPException):
    """Raised from ``receive`` when a streamed body passes its limit (the middleware answers 413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, too_large_message(limit))
        self.limit = limit


class UploadTooLarge(AdminError):
    status_code = 413


def too_large_message(limit: int) -> str:
    return f"the request body is larger than the limit of {limit:,} bytes / 请求内容超过{limit:,}字节的上限"


Allowance = Callable[[Scope], Awaitable[int]]
Refusal = Callable[[Scope, int], Awaitable[Callable[[Scope, Receive, Send], Awaitable[None]]]]


class BodyLimit:
    """ASGI middleware: bodies past their limit are refused with 413 and never read whole.

    ``allowance(scope)`` says how many bytes this request may send beyond the anonymous limit (it looks the
    session up); ``refusal(scope, limit)`` builds the 413 response.
    """

    def __init__(self, app: ASGIApp, *, limits: Limits, allowance: Allowance, refusal: Refusal) -> None:
        self.app = app
        self.limits = limits
        self.allowance = allowance
        self.refusal = refusal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.anonymous_body_bytes
        decided = False
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            limit, decided = await self.allowance(scope), True
            if declared > limit:
                await self._refuse(scope, receive, send, limit, declared)
                return
        received = 0
        exceeded = started = False

        async def limited_receive() -> Message:
            nonlocal received, limit, decided, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit and not decided:
                    limit, decided = await self.allowance(scope), True
                if received > limit:
                    exceeded = True
                    raise BodyTooLarge(limit)
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded and not started:
                return                         # whatever the application answers, the answer is 413
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not exceeded or started:
                raise
        if exceeded and not started:
            await self._refuse(scope, receive, send, limit, received)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, limit: int, size: int) -> None:
        client = scope.get("client") or ("?", 0)
        log.warning("refused a body of %s+ bytes (limit %s) from %s on %s %s", f"{size:,}", f"{limit:,}",
                    client[0], scope["method"], scope["path"])
        response = await self.refusal(scope, limit)
        await response(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    for key, value in scope.get("headers", ()):
        if key == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def save_upload(upload: UploadFile, path: Path, limit: int) -> int:
    """Copy ``upload`` to ``path`` in chunks; refuse it (``UploadTooLarge``) past ``limit`` bytes."""
    size = 0
    with path.open("wb") as out:
        while chunk := await upload.read(CHUNK_BYTES):
            size += len(chunk)
            if size > limit:
                raise UploadTooLarge(f"the file is larger than the limit of {limit:,} bytes "
                                     f"/ 文件超过{limit:,}字节的上限")
            out.write(chunk)
    return size


# -- where a request comes from ------------------------------------------------------------------------------

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def trusted_proxies(given: Iterable[str] | str | None = None, environ: Mapping[str, str] | None = None
                    ) -> tuple[Network, ...]:
    """The configured proxies (addresses or networks): ``given``, else ``REDRESS_TRUSTED_PROXIES`` (comma
    separated); none by default."""
    env = os.environ if environ is None else environ
    if given is None:
        given = env.get("REDRESS_TRUSTED_PROXIES", "")
    items = given.split(",") if isinstance(given, str) else list(given)
    out = []
    for item in (i.strip() for i in items):
        if not item:
            continue
        try:
            out.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(f"trusted proxy {item!r} is not an IP address or network / 代理地址有误") from None
    return tuple(out)


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


def _trusted(address: str, proxies: tuple[Network, ...]) -> bool:
    ip = _ip(address)
    return ip is not None and any(ip in net for net in proxies)


def _forwarded(request: Request, name: str) -> list[str]:
    return [h.strip() for value in request.headers.getlist(name) for h in value.split(",") if h.strip()]


def client_address(request: Request) -> str:
    """Who sent the request, as far as this server can know (at most 64 characters)."""
    peer = request.client.host if request.client else "unknown"
    proxies: tuple[Network, ...] = request.app.state.trusted_proxies
    if not proxies or not _trusted(peer, proxies):
        return peer[:64]
    address = peer
    for hop in reversed(_forwarded(request, "x-forwarded-for")):
        if not _trusted(hop, proxies):
            ip = _ip(hop)
            return str(ip) if ip is not None else "?" + hop[:63]     # not an address: kept, marked as such
        address = hop
    return address[:64]


def is_https(request: Request) -> bool:
    """The request reached us over TLS, or a trusted proxy says it reached the proxy over TLS."""
    if request.url.scheme == "https":
        return True
    proxies: tuple[Network, ...] = request.app.state.trusted_proxies
    peer = request.client.host if request.client else ""
    if proxies and _trusted(peer, proxies):
        proto = _forwarded(request, "x-forwarded-proto")
        return bool(proto) and proto[-1].lower() == "https"
    return False
