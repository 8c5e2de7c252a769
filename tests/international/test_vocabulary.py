"""Issue 13 item 2, Chinese input accepted: the catalogue's terms wherever codes are.

Rules touched: L3 (churn types, causes, reasons), L4 (loyalty types), S1 (channels),
S7 (ticket kinds and priorities), G5 (pyramid grade names and aliases).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore import CRM, Customer, Transaction
from crmcore.cli import main
from crmcore.errors import ValidationError
from crmcore.grading import load_scheme
from crmcore.lifecycle import LifecycleService
from crmcore.lifecycle.taxonomy import ChurnCause, ChurnTaxonomy, ChurnType, LoyaltyType
from crmcore.model import Channel, InteractionKind, Priority, TicketKind
from crmcore.serialization import structure
from crmcore.vocabulary import TERMS, fold, lifecycle_fields, member


def test_l3_churn_recorded_with_chinese_terms_is_stored_as_codes(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]
                                                                  ) -> None:
    """Done when: ``--set churn_type=竞争流失`` is stored as ``competitive`` (L3)."""
    database = tmp_path / "crm.db"
    with CRM.open("sqlite", path=database) as crm:
        crm.record(Customer(id="C1", name="张三贸易"))
        crm.record(Transaction(id="T1", customer_id="C1",
                            occurred_at=datetime(2026, 1, 5, tzinfo=UTC), amount=Decimal(100)))
        LifecycleService(crm).advance(datetime(2026, 1, 10, tzinfo=UTC))
    assert main(["lifecycle", "move", "C1", "churn", "--db", str(database),
                 "--set", "churn_type=竞争流失", "--set", "churn_cause=因价值",
                 "--set", "churn_reasons=价格太高，竞争对手诱惑", "--as-of", "2026-02-01"]) == 0
    assert "churn_type=competitive" in capsys.readouterr().out
    with CRM.open("sqlite", path=database) as crm:
        last = LifecycleService(crm).history("C1")[-1]
    assert last.to_state == "churned"
    assert last.fields == {"churn_type": "competitive", "churn_cause": "value",
                           "churn_reasons": ["price-too-high", "competitor-temptation"]}


def test_l3_unknown_churn_term_lists_codes_and_chinese_terms() -> None:
    with pytest.raises(ValidationError) as error:
        ChurnTaxonomy().details({"churn_type": "跑路", "churn_cause": "value",
                                 "churn_reasons": ["other"], "churn_note": "x"})
    message = str(error.value)
    assert message.startswith("churn_type: '跑路' is not one of natural, malicious, competitive")
    assert "竞争流失 (competitive)" in message
    assert "过失流失 (negligence)" in message


def test_l3_reasons_by_code_label_or_chinese_label() -> None:
    details = ChurnTaxonomy().details({
        "churn_type": "过失", "churn_cause": "因员工",
        "churn_reasons": ["员工跳槽带走客户", "Poor Service", "unstable-quality"]})
    assert (details.churn_type, details.churn_cause) == (ChurnType.NEGLIGENCE,
                                                         ChurnCause.EMPLOYEE)
    assert details.churn_reasons == ("employee-left", "poor-service", "unstable-quality")


@pytest.mark.parametrize(("enum", "text", "code"), [
    (ChurnType, "自然流失", "natural"), (ChurnType, "恶意", "malicious"),
    (ChurnCause, "因系统", "system"), (LoyaltyType, "超值忠诚", "super-value"),
    (LoyaltyType, "Super Value", "super-value"), (LoyaltyType, "垄断", "monopoly"),
    (Channel, "电话", "phone"), (Channel, "短信", "sms"), (Channel, "微信", "instant_message"),
    (Channel, "邮件", "email"), (Channel, "面谈", "in_person"), (Channel, "ＥＭＡＩＬ", "email"),
    (InteractionKind, "拜访", "visit"), (TicketKind, "投诉", "complaint"),
    (Priority, "紧急", "urgent"), (Priority, "URGENT", "urgent"),
])
def test_l4_s1_s7_terms_name_their_codes(enum: type[Enum], text: str, code: str) -> None:
    assert member(enum, text, "field").value == code


def test_s1_structured_input_accepts_terms_and_stores_codes() -> None:
    """Serialization (JSON/TOML input) goes through the same normaliser."""
    assert structure("微信", Channel) is Channel.INSTANT_MESSAGE
    with pytest.raises(ValidationError, match=r"'信鸽' is not a channel \(known: phone, sms, "
                                              r".*\) nor a term of one: 电话 \(phone\)"):
        structure("信鸽", Channel)


def test_s1_customer_csv_channels_in_chinese(tmp_path: Path) -> None:
    from crmcore.csv_import import read_customers

    rows = ["id,name,kind,channels", "C1,张三,个人,微信|电话", "C2,李四商行,企业,邮件"]
    customers = list(read_customers(line + "\n" for line in rows))
    assert customers[0].preferences.channels == (Channel.INSTANT_MESSAGE, Channel.PHONE)
    assert [c.kind.value for c in customers] == ["person", "organisation"]


def test_g5_pyramid_grades_by_chinese_names_and_aliases() -> None:
    scheme = load_scheme("pyramid")
    for text, grade in (("VIP客户", "VIP"), ("铂金", "VIP"), ("vip", "VIP"), ("黄金", "major"),
                        ("大客户", "major"), ("铁", "ordinary"), ("普通客户", "ordinary"),
                        ("铅", "small"), ("小客户", "small"), ("ｌｅａｄ", "small")):
        assert scheme.grade(text).name == grade


def test_item2_lifecycle_fields_keeps_what_it_cannot_name() -> None:
    fields = lifecycle_fields({"churn_type": "跑路", "loyalty_type": "价格忠诚", "x": 1})
    assert fields == {"churn_type": "跑路", "loyalty_type": "price", "x": 1}


def test_item2_every_term_names_exactly_one_code_per_enum() -> None:
    for enum in (ChurnType, ChurnCause, LoyaltyType, Channel, InteractionKind, TicketKind,
                 Priority):
        seen: dict[str, str] = {}
        for code, words in TERMS[enum.__name__].items():
            assert code in {item.value for item in enum}
            for word in (code, *words):
                assert seen.setdefault(fold(word), code) == code, (enum, word)


@given(st.sampled_from([(enum, item) for enum in (ChurnType, Channel, Priority, LoyaltyType)
                        for item in enum]),
       st.sampled_from([str.upper, str.lower, str.title,
                        lambda t: t.translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)})]))
def test_item2_codes_are_case_and_width_insensitive(pair: tuple[type[Enum], Enum],
                                                    spell: object) -> None:
    """Property: any case or full-width spelling of a code names it."""
    enum, item = pair
    assert callable(spell)
    assert member(enum, spell(str(item.value)), "f") is item


def test_item2_item3_docstring_examples_run() -> None:
    import doctest

    import crmcore.amounts
    import crmcore.vocabulary

    for module in (crmcore.vocabulary, crmcore.amounts):
        failed, attempted = doctest.testmod(module)
        assert (failed, attempted > 0) == (0, True), module.__name__


def test_s7_ticket_priorities_and_statuses_by_chinese_terms(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """SLA table keys, a scheme's complaint priority and ``ticket status`` take terms."""
    from crmcore import Ticket, TicketKind
    from crmcore.policies import SlaTable

    table = SlaTable.from_hours({"A": {"紧急": [1, 4], "高": [2, 8], "普通": [4, 16],
                                       "低": [8, 40]}})
    assert table.target("A", Priority.URGENT).first_response.total_seconds() == 3600
    with pytest.raises(Exception, match=r"sla.A.火急: is not a priority \(urgent, high, "
                                        r"normal, low; 紧急 \(urgent\)"):
        SlaTable.from_hours({"A": {"火急": [1, 4]}})
    scheme = load_scheme("pyramid", overrides={"followup": {"VIP": {"complaint_priority": "紧急"}}})
    policy = scheme.policy("VIP")
    assert policy is not None
    assert policy.complaint_priority is Priority.URGENT
    database = str(tmp_path / "crm.db")
    with CRM.open("sqlite", path=database) as crm:
        crm.record_many([Customer(id="C1", name="客户一"),
                         Ticket(id="K1", customer_id="C1", kind=TicketKind.COMPLAINT,
                                opened_at=datetime(2026, 3, 2, 9, tzinfo=UTC),
                                category="billing error")])
    assert main(["ticket", "status", "K1", "已解决", "--db", database,
                 "--as-of", "2026-03-02T10:00:00+00:00"]) == 0
    assert "new -> resolved" in capsys.readouterr().out
