"""case.toml is read strictly: every impossible value is refused, naming its key."""

from __future__ import annotations

import pytest

from redress.errors import CaseError
from redress.law.plan import CostMethod, Rules, SystemicMethod, load_case, load_plan_override
from support.cases import day, write_case


def problems(tmp_path, **kw) -> str:
    write_case(tmp_path, **kw)
    with pytest.raises(CaseError) as info:
        load_case(tmp_path)
    return str(info.value)


def test_valid_case_reads_plan_and_dates(tmp_path):
    case = load_case(write_case(tmp_path))
    assert case.rules == Rules.SPC2022
    assert case.plan.cost_method == CostMethod.MOVING_AVERAGE
    assert case.plan.commission_rate == 0.0003
    assert case.plan.interest is False
    assert str(case.disclosure_date) == day(20)


def test_unknown_key_is_named(tmp_path):
    msg = problems(tmp_path, extra_plan="comission_rate = 0.0003\n")
    assert "plan.comission_rate" in msg and "unknown key" in msg


def test_unknown_top_level_table(tmp_path):
    assert "unknown key" in problems(tmp_path, extra_plan="[extras]\nx = 1\n")


def test_bad_date_is_named(tmp_path):
    write_case(tmp_path)
    text = (tmp_path / "case.toml").read_text().replace(day(3), "2021-02-30")
    (tmp_path / "case.toml").write_text(text)
    with pytest.raises(CaseError, match="case.implementation_date"):
        load_case(tmp_path)


def test_disclosure_before_implementation(tmp_path):
    assert "case.disclosure_date" in problems(tmp_path, i=20, d=3)


def test_weights_must_sum_to_one(tmp_path):
    msg = problems(tmp_path, extra_plan='[plan.systemic_risk]\nmethod = "relative_ratio"\n'
                                       'indices = { "000001" = 0.5, "801150" = 0.4 }\n')
    assert "plan.systemic_risk.indices" in msg and "sum to 1" in msg


def test_unknown_method(tmp_path):
    msg = problems(tmp_path, extra_plan='[plan.systemic_risk]\nmethod = "beta"\n')
    assert "plan.systemic_risk.method" in msg


def test_unknown_cost_method_and_rules(tmp_path):
    write_case(tmp_path, extra_plan="")
    text = (tmp_path / "case.toml").read_text().replace('"moving_average"', '"lifo"').replace('"spc2022"', '"spc1999"')
    (tmp_path / "case.toml").write_text(text)
    with pytest.raises(CaseError) as info:
        load_case(tmp_path)
    assert "plan.cost_method" in str(info.value) and "case.rules" in str(info.value)


def test_negative_rate(tmp_path):
    write_case(tmp_path)
    text = (tmp_path / "case.toml").read_text().replace("commission_rate = 0.0003", "commission_rate = -0.1")
    (tmp_path / "case.toml").write_text(text)
    with pytest.raises(CaseError, match="plan.commission_rate"):
        load_case(tmp_path)


def test_base_price_needs_one_security(tmp_path):
    write_case(tmp_path)
    text = (tmp_path / "case.toml").read_text().replace('["600001"]', '["600001", "000002"]')
    text = text.replace("[plan]", "base_price = 7.5\n\n[plan]")
    (tmp_path / "case.toml").write_text(text)
    with pytest.raises(CaseError, match="case.base_price"):
        load_case(tmp_path)


def test_invalid_toml_reports_line(tmp_path):
    write_case(tmp_path, toml="[case]\nid = \n")
    with pytest.raises(CaseError, match="case.toml"):
        load_case(tmp_path)


def test_defaults_come_from_law_data_with_sources(tmp_path):
    toml = f"""[case]
id = "x"
rules = "spc2003"
direction = "inflation"
securities = ["600001"]
implementation_date = {day(3)}
disclosure_date = {day(20)}
"""
    case = load_case(write_case(tmp_path, toml=toml))
    assert case.plan.interest is True  # SPC-2003 Art. 30
    assert case.plan.interest_rate == 0.0035  # demand deposit rate in force in 2021
    assert case.plan.stamp_duty_rate == 0.001  # seller-only 1 per mille since 2008-09-19
    assert "stamp_duty.toml" in case.plan.source("stamp_duty_rate")
    assert case.plan.systemic_risk.method == SystemicMethod.NONE


def test_plan_override_keeps_case_values(tmp_path):
    case = load_case(write_case(tmp_path))
    f = tmp_path / "alt.toml"
    f.write_text('[plan]\ncost_method = "fifo"\n')
    plan = load_plan_override(f, case)
    assert plan.cost_method == CostMethod.FIFO
    assert plan.commission_rate == case.plan.commission_rate
    f.write_text('[plan]\ncost_methd = "fifo"\n')
    with pytest.raises(CaseError, match="plan.cost_methd"):
        load_plan_override(f, case)
