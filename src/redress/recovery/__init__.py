"""Recourse after advance compensation: claims against the liable parties and recoveries (pure core)."""

from redress.recovery.recourse import (
    ClaimBasis,
    LiableParty,
    Line,
    LineKind,
    PartyBurden,
    PartyKind,
    PayerRecourse,
    Payment,
    Receipt,
    RecourseClaim,
    RecourseError,
    RecoursePlan,
    RecoveryDistribution,
    apply_recoveries,
    recourse_claims,
)

__all__ = [
    "ClaimBasis", "LiableParty", "Line", "LineKind", "PartyBurden", "PartyKind", "PayerRecourse", "Payment",
    "Receipt", "RecourseClaim", "RecourseError", "RecoursePlan", "RecoveryDistribution", "apply_recoveries",
    "recourse_claims",
]
