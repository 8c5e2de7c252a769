"""Refusals whose reason carries a value (a list of codes, a time, a calendar) are
catalogue templates: under zh_CN the whole sentence is Chinese, the values as given.
Lifecycle (L3 churn reasons, cohorts) and service policies (S2 tickets and SLA clocks,
S5 appointments and rescheduling)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from crmcore.errors import ValidationError
from crmcore.i18n import language
from crmcore.lifecycle.measures import periods
from crmcore.lifecycle.taxonomy import ChurnTaxonomy
from crmcore.policies.appointments import Appointment
from crmcore.policies.sla import sla_clock
from crmcore.policies.sla_batch import PeriodTable
from crmcore.policies.tickets import StatusInterval, status_intervals
from crmcore.policies.visits import reschedule
from crmcore.service.calendar import BusinessCalendar

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
LATER = T0 + timedelta(hours=2)
CHURN = {"churn_type": "competitive", "churn_cause": "value"}


def _visit() -> Appointment:
    return Appointment(id="a1", customer_id="c1", starts_at=LATER, purpose="maintenance visit")


def _no_working_time() -> None:
    calendar = BusinessCalendar("never", "UTC", [[]] * 7)
    import numpy

    PeriodTable(calendar, 0, 10**9).reach(numpy.array([10**12], dtype=numpy.int64))


CASES: dict[str, tuple[Callable[[], object], str]] = {
    "L6 cohort unit": (lambda: periods(T0, LATER, "week"), "unit：'week' 不是 month, quarter, "
                                                           "year 之一"),
    "L3 unknown churn reason": (
        lambda: ChurnTaxonomy().details({**CHURN, "churn_reasons": ["aliens"]}),
        "churn_reasons[0]：'aliens' 不是流失原因（已知："),
    "L3 unknown beside known": (
        lambda: ChurnTaxonomy().details({**CHURN, "churn_reasons": ["price-too-high", "unknown"]}),
        "在已知原因之外又列出了 'unknown'"),
    "S5 appointment ends before it starts": (
        lambda: Appointment(id="a1", customer_id="c1", starts_at=LATER, purpose="visit",
                            ends_at=T0),
        f"ends_at：'{T0.isoformat()}' 不晚于 starts_at {LATER.isoformat()}"),
    "S5 reschedule before consent": (
        lambda: reschedule(_visit(), T0, consent_by="王经理", consent_at=LATER),
        f"new_start：'{T0.isoformat()}' 不晚于客户同意的时间（{LATER.isoformat()}）"),
    "S2 clock before opening": (
        lambda: sla_clock((StatusInterval("new", LATER),), timedelta(hours=4),
                          BusinessCalendar("24x7", "UTC", [["00:00-24:00"]] * 7), T0),
        f"as_of：'{T0.isoformat()}' 早于工单建立时间（{LATER.isoformat()}）"),
    "S2 interval ends before it starts": (
        lambda: StatusInterval("new", LATER, T0),
        f"end：'{T0.isoformat()}' 早于 start {LATER.isoformat()}"),
    "S2 change before opening": (
        lambda: status_intervals(LATER, [(T0, "open")]),
        f"changes：'{T0.isoformat()}' 早于工单建立时间（{LATER.isoformat()}）"),
    "S2 target beyond the calendar": (_no_working_time, "无法达成：日历 'never' 的工作时间不足"),
}


@pytest.mark.parametrize("provoke", list(CASES), ids=list(CASES))
def test_a_reason_with_values_is_worded_in_chinese(provoke: str) -> None:
    action, chinese = CASES[provoke]
    with language("zh_CN"), pytest.raises(ValidationError) as raised:
        action()
    assert chinese in str(raised.value)
    with pytest.raises(ValidationError) as english:  # English stays as it was
        action()
    assert str(english.value).isascii()
