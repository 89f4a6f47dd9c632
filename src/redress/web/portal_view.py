"""What the investor's and the public pages say, worked out before a template shows it.

Codes (claim statuses, case states, payment statuses) never reach a reader: each has one plain label here,
an English message id translated when shown.  The claim page's facts (deadline, days left, what happens next,
the expected payment date) and the plan in words are computed here from the records, so the templates only
lay them out.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from redress import i18n
from redress.i18n import N_, _
from redress.store.models import Agreement, Case, CaseHelp

# -- plain labels: the one place where a code becomes words

LABELS: dict[str, dict[str, str]] = {
    "claim": {
        "offered": N_("Waiting for your decision"),
        "accepted": N_("Accepted"),
        "declined": N_("Declined"),
        "lapsed": N_("Deadline missed"),
        "paid": N_("Paid into your account"),  # accepted and paid in full (derived, not stored)
    },
    "case": {
        "draft": N_("Being prepared"),
        "fund_established": N_("Fund set up"),
        "plan_approved": N_("Plan approved"),
        "claims_open": N_("Open for decisions"),
        "claims_closed": N_("Decisions closed"),
        "late_window": N_("Reopened for late decisions"),
        "payments_complete": N_("All payments made"),
        "liquidated": N_("Accounts settled"),
        "closed": N_("Case closed"),
    },
    "payment": {
        "pending": N_("Being prepared"),
        "instructed": N_("Sent to the bank"),
        "paid": N_("Paid into your account"),
        "returned": N_("Returned by the bank"),
        "cancelled": N_("Cancelled"),
    },
    "decision": {
        "accept": N_("Accepted"),
        "decline": N_("Declined"),
    },
    "channel": {
        "online": N_("online"),
        "counter": N_("at the service counter"),
        "mail": N_("by post"),
        "phone": N_("by telephone"),
    },
}


def label(kind: str, code: str | None) -> str:
    """The plain words for ``code`` of ``kind`` in the current language (a code not listed: a neutral
    word)."""
    text = LABELS.get(kind, {}).get(code or "")
    return _(text) if text else _("Other")


# -- a claim as the investor sees it -------------------------------------------------------------------------


@dataclass(frozen=True)
class Contact:
    """Who to ask about a case, as the administrator set it (``redress case help``)."""

    hotline: str | None
    email: str | None
    office_hours: str | None
    payment_dates: tuple[dt.date, ...]

    @property
    def any(self) -> bool:
        return bool(self.hotline or self.email or self.office_hours)


def contact(s: Session, case_id: str) -> Contact | None:
    row = s.get(CaseHelp, case_id)
    if row is None:
        return None
    return Contact(row.hotline, row.email, row.office_hours, payment_dates(row.payment_dates))


def contacts(s: Session) -> list[tuple[Case, Contact]]:
    """Every case whose help the administrator set, for the general help page."""
    rows = s.execute(
        select(Case, CaseHelp).join(CaseHelp, CaseHelp.case_id == Case.id).order_by(Case.id)
    ).all()
    return [
        (c, Contact(h.hotline, h.email, h.office_hours, payment_dates(h.payment_dates)))
        for c, h in rows
        if h.hotline or h.email or h.office_hours
    ]


def payment_dates(text: str | None) -> tuple[dt.date, ...]:
    """The stored calendar (ISO dates, comma-separated), sorted; a bad entry is skipped, not shown."""
    out = set()
    for part in (text or "").split(","):
        try:
            out.add(dt.date.fromisoformat(part.strip()))
        except ValueError:
            continue
    return tuple(sorted(out))


def expected_payment(dates: tuple[dt.date, ...], after: dt.date | None) -> dt.date | None:
    """The first date of the payment calendar after ``after`` (the decision); None if the calendar has
    none."""
    if after is None:
        return None
    return next((d for d in dates if d > after), None)


@dataclass(frozen=True)
class ClaimView:
    status: str  # the claim's own status, or "paid" once paid in full
    deadline: dt.date | None  # the last day a decision is taken now (claims period or late window)
    days_left: int | None  # days from today to the deadline (0: today is the last day)
    can_decide: bool
    decided_on: dt.date | None
    decision: str | None  # accept, decline
    accepted_version: str | None
    accepted_sha256: str | None
    expected_payment: dt.date | None
    due_fen: int  # what the fund owes once accepted
    fully_paid: bool
    returned: bool  # a payment came back and none is on its way or done


def claim_view(s: Session, case, claim, help_: Contact | None, today: dt.date, may_decide: bool) -> ClaimView:
    """The facts the claim page shows, from the case (``Case``), the claim (``ClaimOut``) and the calendar."""
    state = case.state
    deadline = case.late_window_until if state == "late_window" else case.deadline
    can = may_decide and (
        (claim.status == "offered" and state == "claims_open")
        or (claim.status == "lapsed" and state == "late_window")
    )
    if can and deadline is not None and deadline < today:
        can = False
    days = (deadline - today).days if deadline is not None and can else None
    last = claim.decisions[-1] if claim.decisions else None
    version = sha = None
    if last is not None and last.decision == "accept" and last.agreement_version:
        version = last.agreement_version
        sha = s.execute(
            select(Agreement.sha256).where(Agreement.case_id == case.id, Agreement.version == version)
        ).scalar_one_or_none()
    due = (
        (claim.awarded_fen or claim.offered_fen) + (claim.interest_fen or 0)
        if claim.status == "accepted"
        else 0
    )
    fully_paid = claim.status == "accepted" and due > 0 and claim.paid_fen >= due
    statuses = [p.status for p in claim.payments]
    returned = (
        "returned" in statuses
        and not fully_paid
        and not any(x in ("pending", "instructed") for x in statuses)
    )
    decided_on = claim.decided_on or (last.decided_on if last else None)
    return ClaimView(
        status="paid" if fully_paid else claim.status,
        deadline=deadline,
        days_left=days,
        can_decide=can,
        decided_on=decided_on,
        decision=last.decision if last else None,
        accepted_version=version,
        accepted_sha256=sha,
        expected_payment=expected_payment(help_.payment_dates if help_ else (), decided_on)
        if claim.status == "accepted" and not fully_paid
        else None,
        due_fen=due,
        fully_paid=fully_paid,
        returned=returned,
    )


def days_left(n: int) -> str:
    """「还剩 3 天」; on the last day, that it is the last day."""
    if n <= 0:
        return _("Today is the last day")
    return i18n.ngettext("%(num)d day left", "%(num)d days left", n)


# -- the plan in words ---------------------------------------------------------------------------------------


def _percent(rate: float | int | str | None) -> str:
    value = (Decimal(str(rate or 0)) * 100).normalize()
    return f"{value:f}%"


COST_METHODS = {
    "moving_average": N_("your buying cost is the moving weighted average of your purchases"),
    "weighted_average": N_("your buying cost is the average of all your purchases in the period"),
    "actual_cost": N_("your buying cost is what you actually paid for the shares you still held"),
    "fifo": N_("your buying cost counts your shares first in, first out, each at its own price"),
}


def plan_in_words(plan_toml: str | None) -> list[tuple[str, str]]:
    """The approved plan as (heading, sentence) pairs a reader understands: dates, rules, direction and what
    is
    added or deducted.  Nothing of the raw settings is shown."""
    if not plan_toml:
        return []
    try:
        doc = tomllib.loads(plan_toml)
    except tomllib.TOMLDecodeError:
        return []
    case, plan = doc.get("case", {}), doc.get("plan", {})
    out: list[tuple[str, str]] = []
    rules = case.get("rules")
    if rules == "spc2022":
        out.append(
            (
                _("Legal basis"),
                _(
                    "The amounts follow the Supreme People's Court's 2022 provisions on "
                    "civil cases of false statements in the securities market."
                ),
            )
        )
    elif rules == "spc2003":
        out.append(
            (
                _("Legal basis"),
                _(
                    "The amounts follow the Supreme People's Court's 2003 provisions on "
                    "civil cases of false statements in the securities market."
                ),
            )
        )
    start, end = case.get("implementation_date"), case.get("disclosure_date")
    if start and end:
        if case.get("direction") == "deflation":
            text = _(
                "The false statements pushed the price down. Investors who sold shares between %(start)s "
                "and %(end)s are covered.",
                start=i18n.date(str(start)),
                end=i18n.date(str(end)),
            )
        else:
            text = _(
                "The false statements pushed the price up. Investors who bought shares between %(start)s "
                "and %(end)s and still held them on %(end)s are covered.",
                start=i18n.date(str(start)),
                end=i18n.date(str(end)),
            )
        out.append((_("Who is covered"), text))
    if case.get("base_date"):
        out.append(
            (
                _("Base date"),
                _(
                    "Losses are measured up to %(date)s, when the price had settled after the "
                    "truth came out.",
                    date=i18n.date(str(case["base_date"])),
                ),
            )
        )
    method = COST_METHODS.get(plan.get("cost_method", ""))
    if method:
        out.append(
            (
                _("How the loss is computed"),
                _(
                    "The loss is what you paid for the shares minus what they were worth after the truth "
                    "came out; %(method)s.",
                    method=_(method),
                ),
            )
        )
    out.append(
        (
            _("What is added"),
            _(
                "Commission (%(commission)s) and stamp duty (%(stamp)s) on those trades are "
                "added to the loss.",
                commission=_percent(plan.get("commission_rate")),
                stamp=_percent(plan.get("stamp_duty_rate")),
            ),
        )
    )
    if plan.get("interest"):
        out.append(
            (
                _("Interest"),
                _("Interest at %(rate)s a year is added.", rate=_percent(plan.get("interest_rate"))),
            )
        )
    else:
        out.append((_("Interest"), _("No interest is added.")))
    risk = plan.get("systemic_risk", {}) or {}
    kind = risk.get("method", "none")
    if kind == "relative_ratio":
        text = _(
            "The part of each loss caused by falls of the whole market or the industry (measured by market "
            "indices against the share's own price) is deducted."
        )
    elif kind == "market_model":
        text = _(
            "The part of each loss explained by the move of the whole market (measured by market indices, "
            "through how closely the share followed them before the false statement) is deducted."
        )
    elif kind == "uniform_ratio":
        text = _(
            "%(ratio)s of each loss is deducted as caused by falls of the whole market.",
            ratio=_percent(risk.get("ratio")),
        )
    else:
        text = _("Nothing is deducted for falls of the whole market.")
    share = risk.get("deducted_share", 1.0)
    if kind in ("relative_ratio", "market_model") and share is not None and float(share) != 1.0:
        text += " " + _("Only %(share)s of that part is deducted.", share=_percent(share))
    out.append((_("What is deducted"), text))
    if plan.get("minimum_payment"):
        out.append(
            (
                _("Smallest payment"),
                _(
                    "The smallest amount paid to an investor is %(amount)s yuan.",
                    amount=i18n.money(round(float(plan["minimum_payment"]) * 100)),
                ),
            )
        )
    return out


# -- the participation chart ---------------------------------------------------------------------------------


def _esc(text: str) -> str:
    from html import escape

    return escape(text)


def status_chart(rows: list[tuple[str, int]]) -> str:
    """Investors by status as bars in an SVG that stays readable on a phone: a narrow drawing (300 units wide)
    with 15-unit text, the label above each bar and the count beside it, integers with separators."""
    if not rows:
        return ""
    top = max(n for _l, n in rows) or 1
    width, row_h = 300, 46
    out = [
        f'<svg class="chart chart-status" viewBox="0 0 {width} {row_h * len(rows) + 4}" role="img" '
        f'aria-label="{_esc(_("Investors by decision"))}" font-size="15">'
    ]
    for i, (text, n) in enumerate(rows):
        y = i * row_h
        w = (width - 90) * n / top
        out.append(
            f'<text x="0" y="{y + 16}" class="label">{_esc(text)}</text>'
            f'<rect x="0" y="{y + 22}" width="{max(w, 1):.1f}" height="18" class="bar"/>'
            f'<text x="{w + 6:.1f}" y="{y + 37}" class="value">{_esc(i18n.count(n))}</text>'
        )
    out.append("</svg>")
    return "".join(out)
