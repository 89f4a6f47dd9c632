"""The securities investor protection fund (证券投资者保护基金): levies, failed-firm payouts, investments and
board decisions (pure core, no database).  Concepts and conventions: ``docs.md``."""

from redress.protection._common import ProtectionDataError, ProtectionError, round_half_up
from redress.protection.governance import (
    DECISIONS_NEEDING_BOARD,
    BoardDecision,
    Finding,
    FindingCode,
    GovernanceRules,
    Meeting,
    MeetingKind,
    Outcome,
    Resolution,
    check_meeting,
    check_resolution,
    decisions_needing_board,
    governance_rules,
    needs_board,
    parse_governance_rules,
)
from redress.protection.investments import (
    InvestmentRules,
    Proposal,
    Refusal,
    RefusalRule,
    check,
    investment_rules,
    parse_investment_rules,
)
from redress.protection.levy import (
    Grade,
    GradeClass,
    Instalment,
    LevyRate,
    LevyRules,
    Overdue,
    RateCandidate,
    Settlement,
    annual_settlement,
    exchange_fee_share_fen,
    levy_fen,
    levy_rules,
    overdue,
    parse_levy_rules,
    quarterly_schedule,
    rate_for,
    working_day_after,
)
from redress.protection.payout import (
    Category,
    Compensation,
    CustodianRecord,
    Discrepancy,
    DiscrepancyReason,
    Payout,
    PayoutRules,
    RegisteredClaim,
    Verification,
    compensate,
    parse_payout_rules,
    payout_rules,
    subrogated_claim_fen,
    verify,
)

__all__ = [
    "DECISIONS_NEEDING_BOARD", "BoardDecision", "Category", "Compensation", "CustodianRecord",
    "Discrepancy", "DiscrepancyReason", "Finding", "FindingCode", "GovernanceRules", "Grade", "GradeClass",
    "Instalment", "InvestmentRules", "LevyRate", "LevyRules", "Meeting", "MeetingKind", "Outcome",
    "Overdue", "Payout", "PayoutRules", "Proposal", "ProtectionDataError", "ProtectionError",
    "RateCandidate", "Refusal", "RefusalRule", "RegisteredClaim", "Resolution", "Settlement",
    "Verification", "annual_settlement", "check", "check_meeting", "check_resolution", "compensate",
    "decisions_needing_board", "exchange_fee_share_fen", "governance_rules", "investment_rules", "levy_fen",
    "levy_rules", "needs_board", "overdue", "parse_governance_rules", "parse_investment_rules",
    "parse_levy_rules", "parse_payout_rules", "payout_rules", "quarterly_schedule", "rate_for",
    "round_half_up", "subrogated_claim_fen", "verify", "working_day_after",
]
