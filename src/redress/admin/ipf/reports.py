"""The monthly and quarterly reports on the raising, management and use of the fund, for the CSRC, the
Ministry of Finance and the People's Bank of China (Measures Art. 24), built only from the fund's books and
its tables (holdings, levies, levy payments).

Figures, all integer fen, for a period ``start .. end`` (both days included):

- **opening / closing**: the statement through the day before ``start`` and through ``end``.
- **raised, by source**: income booked in the period, natural sign (levies assessed = net credits to
  ``levy_income``, exchange fees per exchange, IPO interest, investment income, donations, other income),
  capital paid in, and recoveries from liquidations (credits to ``subrogated:<firm>`` not written off).
  Levies received (cash) = the bank side of entries touching only levy accounts and the bank.
- **management**: holdings at ``end`` by kind, their share of the closing net assets; investment income.
- **use**: payouts to failed firms' claimants (debits to ``subrogated:<firm>``), write-offs (debits to
  ``liquidation_loss:<firm>``), operating expenses.
- **levies** per company at ``end`` (from ``ipf_levy`` and ``ipf_levy_payment``): assessed in the period,
  received in the period, outstanding (unpaid levies assessed by ``end``) and overdue (of those, due before
  ``end``).

Paying claimants turns cash into a claim in the liquidation, and a recovery turns it back: neither changes
the net assets.  The reconciliation is therefore ``opening net assets + income + capital paid in -
write-offs - operating expenses = closing net assets``, checked to the fen when the report is built.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from redress.admin.errors import AdminError, BadInput
from redress.admin.ipf import book
from redress.admin.ipf.investments import holdings
from redress.money import yuan
from redress.ledger.core import LedgerError
from redress.protection.book import INCOME, ProtectionAccount, ProtectionStatement, kind_of, statement
from redress.protection.investments import investment_rules
from redress.store.models import Levy, LevyPayment, SecuritiesCompany

ARTICLE = "证券投资者保护基金管理办法（证监会、财政部、人民银行令第27号，2005）第二十四条"
REGULATORS = ("China Securities Regulatory Commission / 中国证监会", "Ministry of Finance / 财政部",
              "People's Bank of China / 中国人民银行")
SOURCE_NAMES = {
    "levy_income": ("levies on securities companies (assessed)", "证券公司缴纳的保护基金（应缴）"),
    "exchange_fees": ("exchanges' transaction fees", "交易所交易经手费"),
    "ipo_interest": ("interest on frozen subscription money", "申购冻结资金利息"),
    "investment_income": ("investment income", "资金运用收益"),
    "donation": ("donations", "捐赠"),
    "other_income": ("other lawful income", "其他合法收入"),
    "capital": ("capital paid in", "注册资本"),
    "recoveries": ("recoveries from liquidations", "清算财产受偿"),
}
_LEVY_ACCOUNTS = frozenset({ProtectionAccount.LEVY_INCOME, ProtectionAccount.LEVY_RECEIVABLE,
                            ProtectionAccount.LEVY_REFUND_PAYABLE})


@dataclass(frozen=True)
class Line:
    """One figure of the report: ``key``, bilingual name, amount in fen; ``party`` for per-party lines."""

    key: str
    name_en: str
    name_zh: str
    amount_fen: int
    party: str | None = None


@dataclass(frozen=True)
class KindHolding:
    kind: str
    name_en: str
    name_zh: str
    count: int
    amount_fen: int
    share: Fraction             # of the closing net assets (0 when those are not positive)


@dataclass(frozen=True)
class CompanyLevies:
    company_id: str
    name: str
    assessed_fen: int           # levies assessed in the period
    received_fen: int           # payments received in the period
    outstanding_fen: int        # unpaid at the end, of levies assessed by then
    overdue_fen: int            # of which due before the end
    oldest_due: dt.date | None  # the earliest due date of an overdue levy


@dataclass(frozen=True)
class Report:
    """The report on a period; the reconciliation is checked to the fen on construction."""

    period: str                 # "month" or "quarter"
    label: str                  # "2024-03", "2024Q1"
    start: dt.date
    end: dt.date
    opening: ProtectionStatement
    closing: ProtectionStatement
    sources: tuple[Line, ...]   # income by kind (exchange fees per exchange), capital, recoveries
    levies_assessed_fen: int
    levies_received_fen: int
    holdings: tuple[KindHolding, ...]
    investment_income_fen: int
    payouts: tuple[Line, ...]   # per failed firm
    write_offs: tuple[Line, ...]  # per failed firm
    operating_expense_fen: int
    levies: tuple[CompanyLevies, ...]

    def __post_init__(self) -> None:
        if self.expected_closing_fen != self.closing.net_assets_fen:
            raise AdminError(f"report {self.label} does not reconcile: opening {self.opening.net_assets_fen} + "
                             f"income {self.income_fen} + capital {self.capital_paid_fen} - write-offs "
                             f"{self.written_off_fen} - expenses {self.operating_expense_fen} = "
                             f"{self.expected_closing_fen} fen, but the closing net assets are "
                             f"{self.closing.net_assets_fen} fen / 报表不平")

    def _sum(self, keys: set[str]) -> int:
        return sum(s.amount_fen for s in self.sources if s.key in keys)

    @property
    def income_fen(self) -> int:
        return self._sum({k.value for k in INCOME})

    @property
    def capital_paid_fen(self) -> int:
        return self._sum({"capital"})

    @property
    def recoveries_fen(self) -> int:
        return self._sum({"recoveries"})

    @property
    def raised_fen(self) -> int:
        """Everything that came in: income, capital and recoveries."""
        return sum(s.amount_fen for s in self.sources)

    @property
    def paid_out_fen(self) -> int:
        return sum(p.amount_fen for p in self.payouts)

    @property
    def written_off_fen(self) -> int:
        return sum(w.amount_fen for w in self.write_offs)

    @property
    def holdings_fen(self) -> int:
        return sum(h.amount_fen for h in self.holdings)

    @property
    def outstanding_fen(self) -> int:
        return sum(c.outstanding_fen for c in self.levies)

    @property
    def overdue_fen(self) -> int:
        return sum(c.overdue_fen for c in self.levies)

    @property
    def expected_closing_fen(self) -> int:
        return (self.opening.net_assets_fen + self.income_fen + self.capital_paid_fen - self.written_off_fen
                - self.operating_expense_fen)

    def summary(self) -> list[tuple[str, str, int]]:
        """(English, Chinese, fen) rows of the summary table."""
        return [
            ("opening net assets", "期初净资产", self.opening.net_assets_fen),
            ("income in the period", "本期收入", self.income_fen),
            ("capital paid in", "注册资本投入", self.capital_paid_fen),
            ("write-offs (liquidation losses)", "清算损失核销", self.written_off_fen),
            ("operating expenses", "业务费用", self.operating_expense_fen),
            ("closing net assets", "期末净资产", self.closing.net_assets_fen),
            ("levies assessed", "本期应缴保护基金", self.levies_assessed_fen),
            ("levies received (cash)", "本期实收保护基金", self.levies_received_fen),
            ("recoveries from liquidations", "清算受偿", self.recoveries_fen),
            ("payouts to claimants", "本期兑付（收购）支出", self.paid_out_fen),
            ("investment income", "资金运用收益", self.investment_income_fen),
            ("holdings at end", "期末投资余额", self.holdings_fen),
            ("bank deposits at end", "期末银行存款", self.closing.bank_fen),
            ("levies outstanding at end", "期末应收未收保护基金", self.outstanding_fen),
            ("of which overdue", "其中逾期", self.overdue_fen),
        ]


def _by_party(movement: dict[str, int], kind: ProtectionAccount, sign: int) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for name, fen in movement.items():
        if kind_of(name) is kind:
            out[name.partition(":")[2]] += sign * fen
    return dict(out)


def period_report(session: Session, start: dt.date, end: dt.date, *, period: str = "period",
                  label: str | None = None) -> Report:
    """The report on ``start .. end`` (both included), from the books and the ipf tables."""
    if end < start:
        raise BadInput(f"the period ends ({end}) before it starts ({start}) / 报告期有误")
    try:
        opening = statement(book.balances(session, through=start - dt.timedelta(days=1)))
        closing = statement(book.balances(session, through=end))
    except LedgerError as exc:  # the books do not hold together
        raise AdminError(str(exc)) from None
    entries = [e for e in book.entries(session, through=end) if e.booked_on >= start]
    movement: dict[str, int] = defaultdict(int)
    levies_received = recoveries = payouts_total = 0
    payouts: dict[str, int] = defaultdict(int)
    recovered: dict[str, int] = defaultdict(int)
    for e in entries:
        kinds = {p.account: kind_of(p.account) for p in e.postings}
        for p in e.postings:
            movement[p.account] += p.amount_fen
        others = {k for a, k in kinds.items() if k is not ProtectionAccount.BANK}
        if others and others <= _LEVY_ACCOUNTS:
            levies_received += sum(p.amount_fen for p in e.postings if kinds[p.account] is ProtectionAccount.BANK)
        written = sum(p.amount_fen for p in e.postings
                      if kinds[p.account] is ProtectionAccount.LIQUIDATION_LOSS and p.amount_fen > 0)
        for p in e.postings:
            if kinds[p.account] is not ProtectionAccount.SUBROGATED:
                continue
            firm = p.account.partition(":")[2]
            if p.amount_fen > 0:
                payouts[firm] += p.amount_fen
                payouts_total += p.amount_fen
            else:
                credit = -p.amount_fen
                part = min(credit, written)       # the part of the credit that is a write-off
                written -= part
                if credit - part:
                    recovered[firm] += credit - part
                    recoveries += credit - part
    names = SOURCE_NAMES
    sources: list[Line] = []
    for k in INCOME:
        if k is ProtectionAccount.EXCHANGE_FEES:
            for exch, fen in sorted(_by_party(movement, k, -1).items()):
                sources.append(Line(k.value, f"{names[k.value][0]}: {exch}", f"{names[k.value][1]}：{exch}", fen,
                                    exch))
            if not any(s.key == k.value for s in sources):
                sources.append(Line(k.value, *names[k.value], 0))
        else:
            sources.append(Line(k.value, *names[k.value], -movement.get(k.value, 0)))
    sources.append(Line("capital", *names["capital"], -movement.get(ProtectionAccount.CAPITAL.value, 0)))
    sources.append(Line("recoveries", *names["recoveries"], recoveries))

    rules = investment_rules()
    held = holdings(session, on=end)
    net = closing.net_assets_fen
    by_kind: dict[str, list[int]] = defaultdict(list)
    for h in held:
        by_kind[h.kind].append(h.book_value_fen)
    order = [k.key for k in rules.kinds] + sorted(set(by_kind) - {k.key for k in rules.kinds})
    kind_lines = []
    for key in order:
        if key not in by_kind:
            continue
        k = rules.kind(key)
        fen = sum(by_kind[key])
        kind_lines.append(KindHolding(key, k.name_en if k else key, k.name_zh if k else key, len(by_kind[key]), fen,
                                      Fraction(fen, net) if net > 0 else Fraction(0)))
    write_offs = _by_party(movement, ProtectionAccount.LIQUIDATION_LOSS, 1)
    return Report(
        period=period, label=label or f"{start}..{end}", start=start, end=end, opening=opening, closing=closing,
        sources=tuple(sources), levies_assessed_fen=-movement.get(ProtectionAccount.LEVY_INCOME.value, 0),
        levies_received_fen=levies_received, holdings=tuple(kind_lines),
        investment_income_fen=-movement.get(ProtectionAccount.INVESTMENT_INCOME.value, 0),
        payouts=tuple(Line("payout", "payouts to claimants", "兑付（收购）", fen, firm)
                      for firm, fen in sorted(payouts.items())),
        write_offs=tuple(Line("write_off", "written off", "核销", fen, firm)
                         for firm, fen in sorted(write_offs.items()) if fen),
        operating_expense_fen=movement.get(ProtectionAccount.OPERATING_EXPENSE.value, 0),
        levies=tuple(_levies(session, start, end)))


def _levies(session: Session, start: dt.date, end: dt.date) -> list[CompanyLevies]:
    levies = list(session.execute(select(Levy).where(Levy.assessed_on <= end).order_by(Levy.id)).scalars())
    paid_by_levy: dict[int, int] = defaultdict(int)
    received: dict[str, int] = defaultdict(int)
    company_of = {lv.id: lv.company_id for lv in levies}
    for levy_id, paid_on, fen in session.execute(
            select(LevyPayment.levy_id, LevyPayment.paid_on, LevyPayment.amount_fen)
            .where(LevyPayment.paid_on <= end)):
        paid_by_levy[levy_id] += int(fen)
        if paid_on >= start and levy_id in company_of:
            received[company_of[levy_id]] += int(fen)
    names = dict(session.execute(select(SecuritiesCompany.id, SecuritiesCompany.name)).all())
    rows: dict[str, dict] = {}
    for lv in levies:
        r = rows.setdefault(lv.company_id, {"assessed": 0, "outstanding": 0, "overdue": 0, "oldest": None})
        if lv.assessed_on >= start:
            r["assessed"] += lv.amount_fen
        unpaid = lv.amount_fen - paid_by_levy.get(lv.id, 0)
        if lv.amount_fen > 0 and unpaid > 0:
            r["outstanding"] += unpaid
            if lv.due_on < end:
                r["overdue"] += unpaid
                r["oldest"] = lv.due_on if r["oldest"] is None else min(r["oldest"], lv.due_on)
    for co in received:
        rows.setdefault(co, {"assessed": 0, "outstanding": 0, "overdue": 0, "oldest": None})
    return [CompanyLevies(co, names.get(co, co), r["assessed"], received.get(co, 0), r["outstanding"],
                          r["overdue"], r["oldest"]) for co, r in sorted(rows.items())
            if r["assessed"] or received.get(co, 0) or r["outstanding"]]


def month_report(session: Session, year: int, month: int) -> Report:
    if not 1 <= month <= 12:
        raise BadInput(f"month {month} is not 1-12 / 月份有误")
    start = dt.date(year, month, 1)
    end = dt.date(year, month, calendar.monthrange(year, month)[1])
    return period_report(session, start, end, period="month", label=f"{year}-{month:02d}")


def quarter_report(session: Session, year: int, quarter: int) -> Report:
    if not 1 <= quarter <= 4:
        raise BadInput(f"quarter {quarter} is not 1-4 / 季度有误")
    first = 3 * quarter - 2
    start = dt.date(year, first, 1)
    end = dt.date(year, first + 2, calendar.monthrange(year, first + 2)[1])
    return period_report(session, start, end, period="quarter", label=f"{year}Q{quarter}")


# -- files -----------------------------------------------------------------------------------------------------

def report_title(report: Report) -> tuple[str, str]:
    what_en = {"month": "Monthly report", "quarter": "Quarterly report"}.get(report.period, "Report")
    what_zh = {"month": "月度报告", "quarter": "季度报告"}.get(report.period, "报告")
    return (f"Securities investor protection fund — {what_en} {report.label} ({report.start} to {report.end})",
            f"证券投资者保护基金{what_zh}：{report.label}（{report.start} 至 {report.end}）")


def _pct(share: Fraction) -> str:
    basis = share * 10000
    hundredths = (basis.numerator * 2 + basis.denominator) // (2 * basis.denominator)   # half up, once
    return f"{hundredths // 100}.{hundredths % 100:02d}%"


def write_excel(report: Report, path: Path) -> Path:
    """The report as an Excel workbook: Summary, Sources, Holdings, Uses, Levies; amounts in yuan (2 decimals),
    bilingual headers, a native column chart of the sources.  Text is written as text cells, made safe by
    ``redress.exports`` (a company or holding name can never become a formula)."""
    from redress.exports import workbook, write_cell

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = workbook(path)
    try:
        bold = wb.add_format({"bold": True})
        head = wb.add_format({"bold": True, "bg_color": "#DCE6F1", "border": 1, "text_wrap": True})
        money = wb.add_format({"num_format": "#,##0.00"})
        pct = wb.add_format({"num_format": "0.00%"})
        date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})

        def amount(ws, row: int, col: int, fen: int) -> None:
            ws.write_number(row, col, fen / 100, money)   # display only: the books keep integer fen

        def header(ws, row: int, cols: list[str]) -> None:
            for c, text in enumerate(cols):
                write_cell(ws, row, c, text, head)

        en, zh = report_title(report)
        ws = wb.add_worksheet("Summary")
        ws.set_column(0, 0, 38)
        ws.set_column(1, 1, 26)
        ws.set_column(2, 2, 20)
        write_cell(ws, 0, 0, en, bold)
        write_cell(ws, 1, 0, zh, bold)
        write_cell(ws, 2, 0, "For / 报送: " + "; ".join(REGULATORS))
        write_cell(ws, 3, 0, f"Basis / 依据: {ARTICLE}")
        header(ws, 5, ["Item", "项目", "Amount (yuan) 金额（元）"])
        for i, (item_en, item_zh, fen) in enumerate(report.summary(), start=6):
            write_cell(ws, i, 0, item_en)
            write_cell(ws, i, 1, item_zh)
            amount(ws, i, 2, fen)
        r = 6 + len(report.summary()) + 1
        write_cell(ws, r, 0, "Reconciliation / 平衡关系", bold)
        write_cell(ws, r + 1, 0, "opening + income + capital - write-offs - expenses = closing")
        write_cell(ws, r + 1, 1, "期初净资产＋收入＋资本－核销－费用＝期末净资产")
        amount(ws, r + 1, 2, report.expected_closing_fen)

        ws = wb.add_worksheet("Sources")
        ws.set_column(0, 1, 40)
        ws.set_column(2, 2, 20)
        header(ws, 0, ["Source", "来源", "Amount (yuan) 金额（元）"])
        for i, s in enumerate(report.sources, start=1):
            write_cell(ws, i, 0, s.name_en)
            write_cell(ws, i, 1, s.name_zh)
            amount(ws, i, 2, s.amount_fen)
        n = len(report.sources)
        chart = wb.add_chart({"type": "column"})
        chart.add_series({"name": "Raised / 资金来源", "categories": ["Sources", 1, 0, n, 0],
                          "values": ["Sources", 1, 2, n, 2], "fill": {"color": "#1F5FA8"}})
        chart.set_title({"name": f"Sources of the fund / 资金来源 {report.label}"})
        chart.set_y_axis({"name": "yuan / 元", "num_format": "#,##0"})
        chart.set_legend({"none": True})
        chart.set_size({"width": 760, "height": 380})
        ws.insert_chart(n + 2, 0, chart)

        ws = wb.add_worksheet("Holdings")
        ws.set_column(0, 2, 36)
        ws.set_column(3, 5, 18)
        header(ws, 0, ["Kind", "类别", "key", "Holdings 笔数", "Amount (yuan) 金额（元）", "Share of fund 占净资产比例"])
        for i, h in enumerate(report.holdings, start=1):
            write_cell(ws, i, 0, h.name_en)
            write_cell(ws, i, 1, h.name_zh)
            write_cell(ws, i, 2, h.kind)
            ws.write_number(i, 3, h.count)
            amount(ws, i, 4, h.amount_fen)
            ws.write_number(i, 5, float(h.share), pct)
        i = len(report.holdings) + 1
        write_cell(ws, i, 0, "Total / 合计", bold)
        amount(ws, i, 4, report.holdings_fen)
        write_cell(ws, i + 1, 0, "Investment income in the period / 本期资金运用收益")
        amount(ws, i + 1, 4, report.investment_income_fen)

        ws = wb.add_worksheet("Uses")
        ws.set_column(0, 2, 30)
        header(ws, 0, ["Use", "用途", "Failed firm 风险证券公司", "Amount (yuan) 金额（元）"])
        rows = ([(p.name_en, p.name_zh, p.party, p.amount_fen) for p in report.payouts]
                + [(w.name_en, w.name_zh, w.party, w.amount_fen) for w in report.write_offs]
                + [("operating expenses", "业务费用", "", report.operating_expense_fen)])
        for i, (a, b, c, fen) in enumerate(rows, start=1):
            write_cell(ws, i, 0, a)
            write_cell(ws, i, 1, b)
            write_cell(ws, i, 2, c or "")
            amount(ws, i, 3, fen)

        ws = wb.add_worksheet("Levies")
        ws.set_column(0, 1, 28)
        ws.set_column(2, 6, 18)
        header(ws, 0, ["Company 公司代码", "Name 名称", "Assessed 本期应缴", "Received 本期实缴",
                       "Outstanding 期末未缴", "Overdue 其中逾期", "Oldest due 最早应缴日"])
        for i, c in enumerate(report.levies, start=1):
            write_cell(ws, i, 0, c.company_id)
            write_cell(ws, i, 1, c.name)
            for j, fen in enumerate((c.assessed_fen, c.received_fen, c.outstanding_fen, c.overdue_fen), start=2):
                amount(ws, i, j, fen)
            if c.oldest_due:
                ws.write_datetime(i, 6, dt.datetime.combine(c.oldest_due, dt.time()), date_fmt)
    finally:
        wb.close()
    return path


_CJK_FONTS = ("Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei",
              "Noto Sans CJK JP", "Noto Serif CJK SC", "SimHei", "Microsoft YaHei")
_CJK_FILES = ("NotoSansCJK*", "SourceHanSans*", "wqy-*", "NotoSerifCJK*")
_FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", "~/.local/share/fonts", "~/.fonts")


def cjk_font() -> str | None:
    """The name of an installed font that can draw Chinese, or None.  Matplotlib's font cache may predate
    the font (or skip ``.ttc`` collections); the usual font folders are then searched and the file added."""
    from matplotlib import font_manager

    def known() -> str | None:
        names = {f.name for f in font_manager.fontManager.ttflist}
        return next((w for w in _CJK_FONTS if w in names), None)

    try:
        found = known()
        if found:
            return found
        for folder in _FONT_DIRS:
            root = Path(folder).expanduser()
            if not root.is_dir():
                continue
            for pattern in _CJK_FILES:
                for f in sorted(root.rglob(pattern)):
                    if f.suffix.lower() in (".ttc", ".ttf", ".otf"):
                        font_manager.fontManager.addfont(str(f))
            found = known()
            if found:
                return found
    except Exception:  # a broken font file or cache must not stop the report: English labels then
        return None
    return None


PDF_PAGES = 4


def write_pdf(report: Report, path: Path) -> Path:
    """The report as a PDF of four pages: the summary table, a bar chart of the sources, the holdings by kind,
    the uses and the levies outstanding.  Chinese labels when a CJK font is installed, else English only."""
    from matplotlib import rc_context
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    font = cjk_font()

    def label(en: str, zh: str) -> str:
        return f"{en} / {zh}" if font else en

    rc = {"font.family": [font, "DejaVu Sans"] if font else ["DejaVu Sans"], "font.size": 9,
          "axes.unicode_minus": False, "pdf.compression": 6}
    title_en, title_zh = report_title(report)
    size = (8.27, 11.69)   # A4 portrait, inches
    with rc_context(rc), PdfPages(str(path), metadata={"Title": title_en, "Creator": "redress"}) as pdf:
        # 1. title and summary
        fig = Figure(figsize=size)
        fig.text(0.5, 0.95, title_en, ha="center", fontsize=11, weight="bold")
        if font:
            fig.text(0.5, 0.925, title_zh, ha="center", fontsize=11, weight="bold")
        fig.text(0.5, 0.9, "For: CSRC, Ministry of Finance, People's Bank of China (Measures Art. 24)"
                 + (" / 报送：中国证监会、财政部、中国人民银行（第二十四条）" if font else ""), ha="center", fontsize=8)
        ax = fig.add_axes((0.06, 0.2, 0.88, 0.66))
        ax.axis("off")
        cells = [[label(en, zh), yuan(fen, grouping=True)] for en, zh, fen in report.summary()]
        table = ax.table(cellText=cells, colLabels=[label("Item", "项目"), label("Yuan", "元")],
                         colWidths=[0.7, 0.3], loc="upper center", cellLoc="left")
        table.auto_set_font_size(False)
        table.set_fontsize(8.5)
        table.scale(1, 1.5)
        for (r, c), cell in table.get_celld().items():
            if c == 1:
                cell.get_text().set_ha("right")
            if r == 0:
                cell.set_facecolor("#dce6f1")
        fig.text(0.06, 0.15, label("Reconciliation: opening net assets + income + capital - write-offs - expenses "
                                   "= closing net assets", "期初净资产＋收入＋资本－核销－费用＝期末净资产"), fontsize=7.5)
        fig.text(0.06, 0.13, f"{yuan(report.opening.net_assets_fen, grouping=True)} + "
                 f"{yuan(report.income_fen, grouping=True)} + {yuan(report.capital_paid_fen, grouping=True)} - "
                 f"{yuan(report.written_off_fen, grouping=True)} - {yuan(report.operating_expense_fen, grouping=True)}"
                 f" = {yuan(report.closing.net_assets_fen, grouping=True)}", fontsize=7.5)
        pdf.savefig(fig)

        # 2. sources
        fig = Figure(figsize=size)
        ax = fig.add_axes((0.38, 0.35, 0.56, 0.55))
        names = [label(s.name_en, s.name_zh) for s in report.sources]
        values = [s.amount_fen / 100 for s in report.sources]
        ax.barh(range(len(values)), values, color="#1f5fa8")
        ax.set_yticks(range(len(values)), names, fontsize=7)
        ax.invert_yaxis()
        ax.set_xlabel(label("yuan", "元"))
        ax.set_title(label(f"Sources of the fund {report.label}", "资金来源"))
        for i, v in enumerate(values):
            ax.annotate(f"{v:,.2f}", (v, i), fontsize=6.5, va="center", xytext=(3, 0), textcoords="offset points")
        pdf.savefig(fig)

        # 3. holdings by kind
        fig = Figure(figsize=size)
        ax = fig.add_axes((0.1, 0.45, 0.8, 0.45))
        if report.holdings and report.holdings_fen > 0:
            ax.pie([h.amount_fen for h in report.holdings], labels=[label(h.name_en, h.name_zh)
                                                                     for h in report.holdings],
                   autopct="%1.1f%%", textprops={"fontsize": 7})
        else:
            ax.axis("off")
            ax.text(0.5, 0.5, label("No holdings at the end of the period", "期末无投资"), ha="center")
        ax.set_title(label(f"Holdings at {report.end}", "期末资金运用"))
        ax2 = fig.add_axes((0.06, 0.08, 0.88, 0.3))
        ax2.axis("off")
        rows = [[label(h.name_en, h.name_zh), str(h.count), yuan(h.amount_fen, grouping=True), _pct(h.share)]
                for h in report.holdings]
        rows.append([label("Total", "合计"), str(sum(h.count for h in report.holdings)),
                     yuan(report.holdings_fen, grouping=True), ""])
        rows.append([label("Investment income in the period", "本期收益"), "",
                     yuan(report.investment_income_fen, grouping=True), ""])
        t = ax2.table(cellText=rows, colLabels=[label("Kind", "类别"), label("Count", "笔数"), label("Yuan", "元"),
                                                label("Share", "占比")],
                      colWidths=[0.55, 0.1, 0.2, 0.15], loc="upper center", cellLoc="left")
        t.auto_set_font_size(False)
        t.set_fontsize(7.5)
        t.scale(1, 1.4)
        pdf.savefig(fig)

        # 4. uses and levies
        fig = Figure(figsize=size)
        fig.text(0.5, 0.95, label("Use of the fund", "资金使用"), ha="center", fontsize=11, weight="bold")
        ax = fig.add_axes((0.06, 0.55, 0.88, 0.36))
        ax.axis("off")
        uses = ([[label(p.name_en, p.name_zh), p.party or "", yuan(p.amount_fen, grouping=True)]
                 for p in report.payouts]
                + [[label(w.name_en, w.name_zh), w.party or "", yuan(w.amount_fen, grouping=True)]
                   for w in report.write_offs]
                + [[label("operating expenses", "业务费用"), "", yuan(report.operating_expense_fen, grouping=True)]])
        t = ax.table(cellText=uses, colLabels=[label("Use", "用途"), label("Firm", "公司"), label("Yuan", "元")],
                     colWidths=[0.5, 0.25, 0.25], loc="upper center", cellLoc="left")
        t.auto_set_font_size(False)
        t.set_fontsize(7.5)
        t.scale(1, 1.4)
        fig.text(0.5, 0.5, label("Levies outstanding at the end of the period", "期末应收未收保护基金"), ha="center",
                 fontsize=10, weight="bold")
        ax = fig.add_axes((0.06, 0.06, 0.88, 0.41))
        ax.axis("off")
        lev = [[c.company_id, yuan(c.assessed_fen, grouping=True), yuan(c.received_fen, grouping=True),
                yuan(c.outstanding_fen, grouping=True), yuan(c.overdue_fen, grouping=True),
                c.oldest_due.isoformat() if c.oldest_due else ""] for c in report.levies[:40]]
        if len(report.levies) > 40:
            lev.append([f"... {len(report.levies) - 40} more (see the Excel file)", "", "", "", "", ""])
        if not lev:
            lev = [[label("none", "无"), "", "", "", "", ""]]
        t = ax.table(cellText=lev, colLabels=[label("Company", "公司"), label("Assessed", "应缴"),
                                              label("Received", "实缴"), label("Outstanding", "未缴"),
                                              label("Overdue", "逾期"), label("Oldest due", "最早应缴日")],
                     loc="upper center", cellLoc="left")
        t.auto_set_font_size(False)
        t.set_fontsize(7)
        t.scale(1, 1.3)
        pdf.savefig(fig)
    return path
