"""The story of named cases: each edge in the investor's own words, in Chinese and in English."""

from __future__ import annotations

import tomllib
from pathlib import Path

from support.cases import day, write_case

from redress import i18n
from redress.engine.explain import explain
from redress.engine.pipeline import prepare
from redress.portal import story as S

LEGAL = Path(__file__).parents[1] / "legal" / "cases"
ROOT = Path(__file__).parents[2]


def told(case_dir: Path, investor: str) -> S.Story:
    return S.tell(explain(prepare(case_dir), investor))


def text(sec: S.SecurityStory, lang: str) -> str:
    with i18n.use(lang):
        return sec.paragraph()


def test_worked_example_tells_the_figures_in_chinese():
    sec = told(LEGAL / "a_worked_example_section_8", "INV001").securities[0]
    assert sec.outcome == S.Outcome.PAID and sec.compensation_fen == 776008
    zh = text(sec, "zh")
    assert "从2020年3月4日到2020年3月27日揭露之前，您买入600123共2,000股，平均成本每股11.50元。" in zh
    assert "您卖出其中500股，平均卖出价8.00元，继续持有1,500股" in zh
    assert "投资差额损失7,750.00元" in zh and "本方案不扣除市场风险" in zh
    assert zh.endswith("您的600123赔付金额为7,760.08元。")
    en = text(sec, "en")
    assert "you bought 2,000 shares of 600123 at an average cost of 11.50 yuan" in en
    assert "Your compensation for 600123: 7,760.08 yuan." in en


def test_no_sells_all_held(tmp_path):
    case = write_case(tmp_path / "c", trades=[f"A,a1,600001,{day(5)},10:00:00,1,B,1000,12.00"])
    sec = told(case, "A").securities[0]
    assert (sec.closed_shares, sec.open_shares) == (0, 1000)
    assert "You still held all 1,000 of them on the base date" in text(sec, "en")
    assert "这1,000股您仍全部持有" in text(sec, "zh")


def test_all_sold_after_disclosure(tmp_path):
    case = write_case(tmp_path / "c", trades=[f"A,a1,600001,{day(5)},10:00:00,1,B,1000,12.00",
                                              f"A,a1,600001,{day(22)},10:00:00,1,S,1000,8.00"])
    sec = told(case, "A").securities[0]
    assert (sec.closed_shares, sec.open_shares) == (1000, 0)
    en = text(sec, "en")
    assert "you sold all 1,000 of them at an average price of 8.00 yuan" in en
    assert "valued at the base price" not in en
    assert "您把这1,000股全部卖出，平均卖出价8.00元" in text(sec, "zh")


def test_bought_outside_the_window(tmp_path):
    case = write_case(tmp_path / "c", trades=[f"A,a1,600001,{day(1)},10:00:00,1,B,1000,10.00",
                                              f"A,a1,600001,{day(25)},10:00:00,1,B,500,7.50"])
    sec = told(case, "A").securities[0]
    assert sec.outcome == S.Outcome.NOT_IN_WINDOW and sec.compensation_fen == 0
    assert "Only shares bought in that period are covered" in text(sec, "en")
    assert "只有在这段时间内买入的股票才能获得赔付" in text(sec, "zh")
    with i18n.use("zh"):
        result = next(d for d in sec.details() if d.label == "结果")
    assert result.value == "没有赔付" and result.words == "这段期间没有买入"


def test_sold_before_disclosure(tmp_path):
    case = write_case(tmp_path / "c", trades=[f"A,a1,600001,{day(5)},10:00:00,1,B,1000,12.00",
                                              f"A,a1,600001,{day(10)},10:00:00,1,S,1000,12.50"])
    sec = told(case, "A").securities[0]
    assert sec.outcome == S.Outcome.SOLD_BEFORE_DISCLOSURE
    assert sec.sold_before_disclosure == 1000
    assert "You sold all of them before the disclosure" in text(sec, "en")
    assert "在揭露日之前已经全部卖出" in text(sec, "zh")


def test_part_sold_before_disclosure_is_said(tmp_path):
    case = write_case(tmp_path / "c", trades=[f"A,a1,600001,{day(5)},10:00:00,1,B,1000,12.00",
                                              f"A,a1,600001,{day(10)},10:00:00,1,S,400,12.50"])
    sec = told(case, "A").securities[0]
    assert sec.sold_before_disclosure == 400 and sec.open_shares == 600
    assert "其中400股在揭露日之前已经卖出，不计入损失。" in text(sec, "zh")


def test_excluded_and_below_minimum():
    excluded = told(LEGAL / "f_excluded_and_below_minimum", "INV001").securities[0]
    assert excluded.outcome == S.Outcome.EXCLUDED and excluded.exclusion
    assert "不在赔付范围之内" in text(excluded, "zh")
    below = told(LEGAL / "f_excluded_and_below_minimum", "INV002").securities[0]
    assert below.outcome == S.Outcome.BELOW_MINIMUM and below.compensation_fen == 0
    assert "低于本方案的最低赔付金额100.00元" in text(below, "zh")


def test_no_loss_when_sold_above_cost():
    sec = told(LEGAL / "i_fifo_lot_prices", "INV002").securities[0]
    assert sec.outcome == S.Outcome.NO_DIFFERENCE_LOSS and sec.difference_loss_fen < 0
    assert "these trades made no loss" in text(sec, "en")


def test_market_takes_the_whole_loss(tmp_path):
    closes = "".join(f"IDX,{day(k)},{1000 if k < 20 else 500}\n" for k in range(1, 61))
    case = write_case(tmp_path / "c", extra_plan='[plan.systemic_risk]\nmethod = "relative_ratio"\n'
                                                 'indices = { "IDX" = 1.0 }\n',
                      files={"indices.csv": "index,date,close\n" + closes})
    sec = told(case, "A").securities[0]
    assert sec.outcome == S.Outcome.MARKET_ONLY and sec.systemic_fen == sec.difference_loss_fen > 0
    en = text(sec, "en")
    assert "deducted as caused by the fall of the market as a whole" in en
    assert "After this deduction no loss is left" in en
    with i18n.use("en"):
        labels = [d.label for d in sec.details()]
    assert {"Your stock's move", "The market indices' moves", "Share caused by the market"} <= set(labels)


def test_uniform_deduction_and_interest_under_spc2003_deflation():
    sec = told(LEGAL / "n_spc2003_deflation_interest", "INV001").securities[0]
    assert sec.direction == "deflation" and sec.rules == "spc2003"
    zh = text(sec, "zh")
    assert "您卖出600123比买入多2,400股，平均卖出价8.50元" in zh
    assert "您买回其中1,800股，平均买入价10.3444元；另有600股没有买回" in zh
    assert "其中898.00元属于整个市场上涨造成的" in zh and "利息1.64元" in zh
    with i18n.use("zh"):
        steps = {d.label: d for d in sec.details()}
    assert steps["市场风险扣除"].words == "投资差额损失 × 20%，所有投资者按同一比例扣除"
    assert steps["计息天数"].value == "47.6667天"
    spc2003 = "《最高人民法院关于审理证券市场因虚假陈述引发的民事赔偿案件的若干规定》"
    assert spc2003 + "第三十三条" in steps["基准日"].article


def test_deflation_nothing_bought_back():
    sec = told(LEGAL / "n_spc2003_deflation_interest", "INV002").securities[0]
    assert sec.closed_shares == 0 and sec.open_shares > 0
    assert "You had not bought any of them back by the base date" in text(sec, "en")


def test_deflation_without_net_sale(tmp_path):
    case = write_case(tmp_path / "c", direction="deflation", positions=["A,a1,600001,1000"],
                      trades=[f"A,a1,600001,{day(5)},10:00:00,1,S,300,6.00",
                              f"A,a1,600001,{day(6)},10:00:00,1,B,300,6.10"])
    sec = told(case, "A").securities[0]
    assert sec.outcome == S.Outcome.NO_NET_SALE
    assert "卖出600001的数量没有超过买入的数量" in text(sec, "zh")


def test_several_securities_and_spc2022_articles():
    story = told(LEGAL / "m_base_date_rules_two_exchanges", "INV001")
    assert len(story.securities) == 2
    assert story.compensation_fen == sum(s.compensation_fen for s in story.securities)
    with i18n.use("zh"):
        assert story.summary().startswith("您2只股票的赔付金额合计")
        steps = {d.label: d for d in story.securities[0].details()}
    assert steps["投资差额损失"].article == \
        "《最高人民法院关于审理证券市场虚假陈述侵权民事赔偿案件的若干规定》第二十七条"
    with i18n.use("en"):
        assert "Article 27 of the Provisions" in {d.label: d for d in story.securities[0].details()}[
            "Loss on the investment difference"].article


def test_trades_in_words_name_lots_and_periods():
    sec = told(LEGAL / "a_worked_example_section_8", "INV001").securities[0]
    with i18n.use("zh"):
        lines = sec.trade_lines()
    assert lines[0].action == "期初持有" and lines[0].price == ""
    sell = next(t for t in lines if t.when == "2020年3月31日")
    assert sell.action == "卖出" and sell.period == "揭露日到基准日之间"
    assert "从第3批中卖出500股，买入价12.00元（在实施日到揭露日之间买入）" in sell.lots
    early = next(t for t in lines if t.when == "2020年3月11日")
    assert "从第1批中卖出1,000股（第一笔交易前已持有）" in early.lots


def test_bonus_shares_show_the_given_figures():
    sec = told(LEGAL / "g_bonus_shares_10_for_3", "INV001").securities[0]
    with i18n.use("en"):
        restated = [t for t in sec.trade_lines() if "before the bonus-share adjustment" in t.shares]
    assert restated


def test_every_cited_article_is_named_in_both_languages():
    articles = tomllib.loads((ROOT / "src/redress/law/data/articles.toml").read_text(encoding="utf-8"))
    cited = {v for table in articles.values() for v in table.values()} | {"plan.minimum_payment"}
    assert not S.unnamed_citations(cited)
    for lang in ("zh", "en"):
        with i18n.use(lang):
            for c in cited:
                assert S.article_name(c) != c
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "law/data/*.toml" in pyproject["tool"]["setuptools"]["package-data"]["redress"]


def test_every_message_has_a_chinese_translation():
    from babel.messages.extract import extract_from_file

    catalogue = i18n.catalogue("zh")
    sources = [("python", ROOT / "src/redress/portal/story.py"),
               ("jinja2", ROOT / "src/redress/web/templates/_explanation.html")]
    missing = [msg for method, path in sources
               for _, msg, _, _ in extract_from_file(method, str(path), keywords={"_": None})
               if catalogue.gettext(msg) == msg]
    assert not missing
