"""The notices shown at the top of a page after a form: by key, from one catalogue, never text from the URL.

A form's handler redirects to ``page?msg=KEY``; the page shows ``MESSAGES[KEY]`` (a message id, translated
into the reader's language) and nothing for a key not in the catalogue, so a link cannot put words of its
own into the official notice box.  What only the server knows (why a request was refused, how many payments
a file settled) travels beside it in a short-lived cookie sealed with the session's CSRF token: it is shown
only to that session, only with its key, and only once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass

from fastapi import Request, Response

from redress.i18n import N_, gettext

COOKIE = "redress_flash"
DETAIL_CHARS = 600
COOKIE_SECONDS = 120

# key -> message id (English), translated in the reader's language when the page is shown
MESSAGES: dict[str, str] = {
    "refused": N_("Refused:"),
    "decision_accepted": N_("Your decision is saved: you accepted the offer."),
    "decision_declined": N_("Your decision is saved: you declined the offer and keep the right to sue."),
    "plan_proposed": N_("Plan proposed; a second person must approve it"),
    "agreement_published": N_("Agreement published"),
    "claims_opened": N_("Claims are open"),
    "claims_closed": N_("Claims closed"),
    "batch_proposed": N_("Batch proposed; a second person must release it"),
    "results_already_imported": N_("Already imported; nothing changed"),
    "results_imported": N_("Results imported"),
    "approved": N_("Approved and carried out"),
    "rejected": N_("Rejected"),
    "hearing_opened": N_("Hearing opened; the seed commitment is published"),
    "panel_seated": N_("Panel seated"),
    "hearing_plan_added": N_("Plan put to the hearing"),
    "comparison_published": N_("Comparison computed and published"),
    "hearing_decided": N_("Decision recorded and published"),
    "party_added": N_("Liable party added"),
    "recovery_step_recorded": N_("Step recorded"),
    "recovery_booked": N_("Recovery booked and passed on to the payers"),
    "fair_fund_established": N_("Fair fund established"),
    "fair_fund_source_added": N_("Money paid in recorded"),
    "fair_fund_round_run": N_("Round of distribution run"),
    "fair_fund_batch_proposed": N_("Batch proposed; a second person must release it"),
    "meeting_recorded": N_("Board meeting recorded"),
    "resolution_recorded": N_("Resolution recorded"),
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
    return Flash(text(key or ""), opened[1] if opened and opened[0] == key else None)


def text(key: str) -> str:
    """The notice for ``key`` in the current language ("" for a key not in the catalogue)."""
    message = MESSAGES.get(key)
    return gettext(message) if message else ""


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
