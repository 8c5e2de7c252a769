"""M4 payment behaviour as grading metrics, and G2 threshold tiers on it."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.conftest import customer, purchase
from tests.sales.test_receivables import START, invoice, invoices

from crmcore import CRM
from crmcore.errors import ConfigError
from crmcore.grading import parse_scheme
from crmcore.grading._backend import np
from crmcore.grading.service import grade_stored
from crmcore.sales.receivables import Receivable
from crmcore.sales.receivables_columns import receivable_columns
from crmcore.sales.receivables_metrics import (
    payment_metrics,
    reference_payment_metrics,
    scheme_reads,
)

IDS = ("C1", "C2", "C3")

SLOW_PAYERS = """
name = "payers"
version = 1
kind = "thresholds"
[[grades]]
name = "A"
[[grades]]
name = "C"
[rules]
[[rules.tiers]]
grade = "C"
when.any = [{ metric = "days_to_pay", op = ">", value = 45 },
            { metric = "days_overdue", op = ">=", value = 30 }]
[[rules.tiers]]
grade = "A"
otherwise = true
"""


def _same(left: list[float], right: list[float]) -> bool:
    return all((math.isnan(a) and math.isnan(b)) or a == pytest.approx(b)
               for a, b in zip(left, right, strict=True))


@given(invoices(), st.integers(0, 900), st.integers(1, 24))
def test_m4_payment_metrics_equal_the_reference_on_both_kernels(
        made: list[Receivable], offset: int, months: int) -> None:
    as_of = datetime.combine(START + timedelta(days=offset), datetime.min.time(), tzinfo=UTC)
    expected = reference_payment_metrics(made, IDS, as_of, window_months=months)
    columns = receivable_columns(made)
    kernels = [False, True] if np is not None else [False]
    for fast in kernels:
        found = payment_metrics(columns, IDS, as_of, window_months=months, fast=fast)
        for name, values in expected.items():
            assert _same([float(v) for v in found[name]], values), (fast, name)
            if name == "days_overdue":
                assert all(v >= 0 for v in found[name])


def test_m4_days_to_pay_is_the_mean_over_invoices_paid_in_the_window() -> None:
    made = [invoice("I1", paid=10), invoice("I2", issued=5, paid=45),
            invoice("I3", "C2", due=20), invoice("I4", "C2", paid=5, paid_amount="1")]
    as_of = datetime(2026, 3, 1, tzinfo=UTC)
    found = payment_metrics(receivable_columns(made), ("C1", "C2", "C9"), as_of, fast=False)
    assert found["days_to_pay"][0] == 25.0  # (10 + 40) / 2
    assert math.isnan(found["days_to_pay"][1])  # nothing fully paid
    assert found["days_overdue"] == [0.0, (as_of.date() - START).days - 20, 0.0]


def test_g2_threshold_tiers_on_days_to_pay_grade_slow_payers_down(crm: CRM) -> None:
    """G2 and M4: payment behaviour is a threshold attribute of a stored book's grading."""
    scheme = parse_scheme(SLOW_PAYERS)
    assert scheme_reads(scheme) == ("days_to_pay", "days_overdue")
    crm.record_many([customer("C1"), customer("C2"), customer("C3"), purchase("T1", "C1"),
                     invoice("I1", "C1", paid=20), invoice("I2", "C2", paid=70),
                     invoice("I3", "C3", due=10)])
    table = grade_stored(crm, scheme, as_of=datetime(2026, 4, 1, tzinfo=UTC))
    grades = dict(zip(table.ids, table.grade_list, strict=True))
    assert grades == {"C1": "A", "C2": "C", "C3": "C"}
    explanation = table.explain("C2")
    assert explanation.metrics["days_to_pay"] == 70.0


def test_g2_payment_metrics_unknown_outside_a_stored_book() -> None:
    from crmcore.grading import grade_book

    with pytest.raises(ConfigError, match="days_to_pay"):
        grade_book(parse_scheme(SLOW_PAYERS), as_of=datetime(2026, 3, 1, tzinfo=UTC),
                   transactions=[purchase("T1")])


RANKED_BY_LATENESS = """
name = "late"
version = 1
kind = "pareto-abc"
[[grades]]
name = "A"
[[grades]]
name = "B"
[[grades]]
name = "C"
[rules]
metric = "days_overdue"
basis = "count"
shares = [0.34, 0.33]
nonpositive_last = true
"""


def test_m4_a_ranked_scheme_may_rank_by_days_overdue(crm: CRM) -> None:
    scheme = parse_scheme(RANKED_BY_LATENESS)
    assert scheme_reads(scheme) == ("days_overdue",)
    crm.record_many([customer("C1"), customer("C2"), customer("C3"),
                     invoice("I1", "C1", due=10), invoice("I2", "C2", due=40),
                     invoice("I3", "C3", paid=5)])
    table = grade_stored(crm, scheme, as_of=datetime(2026, 3, 1, tzinfo=UTC))
    assert dict(zip(table.ids, table.grade_list, strict=True)) == {
        "C1": "A", "C2": "B", "C3": "C"}  # the longest overdue ranks first; C3 owes nothing
