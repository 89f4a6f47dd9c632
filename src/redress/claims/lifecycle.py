"""The case lifecycle as an explicit state machine.

draft -> fund_established -> plan_approved -> claims_open -> claims_closed [<-> late_window]
      -> payments_complete -> liquidated -> closed
"""

from __future__ import annotations

from enum import StrEnum


class CaseState(StrEnum):
    DRAFT = "draft"                          # case registered, payers being named / 立案
    FUND_ESTABLISHED = "fund_established"    # money received into the trust account / 基金设立
    PLAN_APPROVED = "plan_approved"          # plan and key dates frozen (maker-checker) / 方案批准
    CLAIMS_OPEN = "claims_open"              # offers sent, investors deciding / 申报期
    CLAIMS_CLOSED = "claims_closed"          # deadline passed, no answer -> lapsed / 申报截止
    LATE_WINDOW = "late_window"              # reopened for those who missed the deadline / 补充申报
    PAYMENTS_COMPLETE = "payments_complete"  # every award paid / 赔付完成
    LIQUIDATED = "liquidated"                # audited, surplus returned to payers / 清算完毕
    CLOSED = "closed"                        # books closed / 结案

    @property
    def label_zh(self) -> str:
        return _ZH[self]


_ZH = {CaseState.DRAFT: "立案", CaseState.FUND_ESTABLISHED: "基金设立", CaseState.PLAN_APPROVED: "方案批准",
       CaseState.CLAIMS_OPEN: "申报期", CaseState.CLAIMS_CLOSED: "申报截止", CaseState.LATE_WINDOW: "补充申报期",
       CaseState.PAYMENTS_COMPLETE: "赔付完成", CaseState.LIQUIDATED: "清算完毕", CaseState.CLOSED: "结案"}

TRANSITIONS: dict[CaseState, frozenset[CaseState]] = {
    CaseState.DRAFT: frozenset({CaseState.FUND_ESTABLISHED}),
    CaseState.FUND_ESTABLISHED: frozenset({CaseState.PLAN_APPROVED}),
    CaseState.PLAN_APPROVED: frozenset({CaseState.CLAIMS_OPEN}),
    CaseState.CLAIMS_OPEN: frozenset({CaseState.CLAIMS_CLOSED}),
    CaseState.CLAIMS_CLOSED: frozenset({CaseState.LATE_WINDOW, CaseState.PAYMENTS_COMPLETE}),
    CaseState.LATE_WINDOW: frozenset({CaseState.CLAIMS_CLOSED}),
    CaseState.PAYMENTS_COMPLETE: frozenset({CaseState.LIQUIDATED}),
    CaseState.LIQUIDATED: frozenset({CaseState.CLOSED}),
    CaseState.CLOSED: frozenset(),
}

# States in which investors may accept or decline, and in which payment batches may be made.
DECIDING = frozenset({CaseState.CLAIMS_OPEN, CaseState.LATE_WINDOW})
PAYING = frozenset({CaseState.CLAIMS_OPEN, CaseState.CLAIMS_CLOSED, CaseState.LATE_WINDOW})
# Contributions and fund income can be booked until liquidation.
FUND_OPEN = frozenset(set(CaseState) - {CaseState.LIQUIDATED, CaseState.CLOSED})


class IllegalTransition(ValueError):
    def __init__(self, case_id: str, current: CaseState, target: CaseState):
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "none (the case is closed)"
        super().__init__(f"case {case_id}: cannot go from {current} to {target}; from {current} the case can go "
                         f"to: {allowed} / 案件状态不允许此操作")
        self.current, self.target = current, target


def check_transition(case_id: str, current: CaseState, target: CaseState) -> None:
    if target not in TRANSITIONS[current]:
        raise IllegalTransition(case_id, current, target)


class ClaimStatus(StrEnum):
    OFFERED = "offered"        # notice sent, waiting for the investor / 待确认
    ACCEPTED = "accepted"      # agreement signed; claims against liable parties assigned to payers / 已接受
    DECLINED = "declined"      # keeps the right to sue / 不接受（保留诉权）
    LAPSED = "lapsed"          # no answer by the deadline / 逾期未确认

    @property
    def label_zh(self) -> str:
        return {"offered": "待确认", "accepted": "已接受", "declined": "不接受", "lapsed": "逾期"}[self.value]
