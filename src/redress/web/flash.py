"""The notices shown at the top of a page after a form: by key, from one catalogue, never text from the URL.

A form's handler redirects to ``page?msg=KEY``; the page shows ``MESSAGES[KEY]`` and nothing for a key not
in the catalogue, so a link cannot put words of its own into the official notice box.  What only the server
knows (why a request was refused, how many payments a file settled) travels beside it in a short-lived cookie
sealed with the session's CSRF token: it is shown only to that session, only with its key, and only once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass

from fastapi import Request, Response

COOKIE = "redress_flash"
DETAIL_CHARS = 600
COOKIE_SECONDS = 120

MESSAGES: dict[str, str] = {
    "refused": "Refused / 未执行:",
    "decision_accepted": "Your decision is recorded / 您的确认已记录",
    "decision_declined": "Your decision is recorded; you keep the right to sue / 已记录，您保留诉权",
    "plan_proposed": "Plan proposed; a second person must approve it / 方案已提交复核",
    "agreement_published": "Agreement published / 和解协议已发布",
    "claims_opened": "Claims are open / 已开始申报",
    "claims_closed": "Claims closed / 申报已截止",
    "batch_proposed": "Batch proposed; a second person must release it / 批次已提交复核",
    "results_already_imported": "Already imported; nothing changed / 已导入过",
    "results_imported": "Results imported / 已处理",
    "approved": "Approved and carried out / 已复核执行",
    "rejected": "Rejected / 已退回",
    "hearing_opened": "Hearing opened; the seed commitment is published / 听证已开始",
    "panel_seated": "Panel seated / 听证小组已组成",
    "hearing_plan_added": "Plan put to the hearing / 方案已提交听证",
    "comparison_published": "Comparison computed and published / 方案对比已公布",
    "hearing_decided": "Decision recorded and published / 听证决定已记录",
    "party_added": "Liable party added / 责任方已添加",
    "recovery_step_recorded": "Step recorded / 追偿步骤已记录",
    "recovery_booked": "Recovery booked and passed on to the payers / 追偿款已入账",
    "fair_fund_established": "Fair fund established / 公平基金已设立",
    "fair_fund_source_added": "Money paid in recorded / 资金来源已登记",
    "fair_fund_round_run": "Round of distribution run / 分配已完成",
    "fair_fund_batch_proposed": "Batch proposed; a second person must release it / 批次已提交复核",
    "meeting_recorded": "Board meeting recorded / 理事会会议已记录",
    "resolution_recorded": "Resolution recorded / 决议已记录",
}


@dataclass(frozen=True)
class Flash:
    message: str
    detail: str | None = None


def _mac(key: str, detail: str, secret: str) -> str:
    return hmac.new(secret.encode(), f"{key}\n{detail}".encode(), hashlib.sha256).hexdigest()


def seal(key: str, detail: str, secret: str) -> str:
    detail = detail[:DETAIL_CHARS]
    body = base64.urlsafe_b64encode(json.dumps([key, detail]).encode()).decode().rstrip("=")
    return f"{body}.{_mac(key, detail, secret)}"


def _unseal(value: str, secret: str) -> tuple[str, str] | None:
    body, _, mac = value.rpartition(".")
    try:
        key, detail = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except (ValueError, TypeError):
        return None
    if not isinstance(key, str) or not isinstance(detail, str):
        return None
    return (key, detail) if hmac.compare_digest(mac, _mac(key, detail, secret)) else None


def shown(request: Request, secret: str | None) -> Flash | None:
    """The notice for this page: the catalogue's message for ``?msg=``, with the sealed detail if it was
    sealed for this session (``secret``: its CSRF token) and this key."""
    key = request.query_params.get("msg")
    message = MESSAGES.get(key or "")
    if message is None:
        return None
    sealed = request.cookies.get(COOKIE)
    opened = _unseal(sealed, secret) if sealed and secret else None
    return Flash(message, opened[1] if opened and opened[0] == key else None)


def attach(response: Response, key: str, detail: str | None, secret: str | None, *, secure: bool) -> None:
    """Send ``detail`` with the redirect that carries ``key`` (only to a signed-in session)."""
    if key not in MESSAGES:
        raise KeyError(f"no notice {key!r} in the catalogue")
    if detail and secret:
        response.set_cookie(COOKIE, seal(key, detail, secret), max_age=COOKIE_SECONDS, httponly=True,
                            secure=secure, samesite="strict", path="/")


def consumed(request: Request, response: Response) -> None:
    """A page that showed the notice clears its detail, so a reload does not show it again."""
    if COOKIE in request.cookies:
        response.delete_cookie(COOKIE, path="/")
