"""Hearings on the advance-compensation plan: verifiable lots, balanced panels, the procedure's time limit.

A pure core (no database, no clock, no randomness): callers pass the seed, the applicants and the date.
See ``docs.md`` in this package.
"""

from redress.hearing.lottery import (
    ALGORITHM,
    Draw,
    LotteryError,
    Ticket,
    check_reveal,
    commitment,
    draw,
    verify,
)
from redress.hearing.panel import Formation, Panel, PanelError, Role, Selection, form_panel
from redress.hearing.timeline import DeadlineWarning, Procedure, TimelineError, Urgency

__all__ = [
    "ALGORITHM", "Draw", "LotteryError", "Ticket", "check_reveal", "commitment", "draw", "verify",
    "Formation", "Panel", "PanelError", "Role", "Selection", "form_panel",
    "DeadlineWarning", "Procedure", "TimelineError", "Urgency",
]
