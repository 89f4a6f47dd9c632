"""The fair fund: fines, confiscated gains and settlement money paid out to harmed investors (pure core)."""

from redress.fairfund.distribution import (
    CARRIED_FORWARD,
    SOURCE_KINDS,
    Eligible,
    FairFundError,
    FairFundPlan,
    NetClaims,
    Round,
    Source,
    cumulative_payments,
    distribute,
    fund_total_fen,
    net_claims,
    rounds,
)

__all__ = [
    "CARRIED_FORWARD", "SOURCE_KINDS", "Eligible", "FairFundError", "FairFundPlan", "NetClaims", "Round",
    "Source", "cumulative_payments", "distribute", "fund_total_fen", "net_claims", "rounds",
]
