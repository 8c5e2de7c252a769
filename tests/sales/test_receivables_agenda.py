"""M4 and S5: the unpaid balance shows on the agenda item of a visit or appointment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.conftest import customer

from crmcore import CRM
from crmcore.policies.agenda import ActionKind
from crmcore.policies.appointments import Appointment
from crmcore.policies.service import PolicyService

from .test_receivables import invoice

AS_OF = datetime(2026, 3, 2, 8, tzinfo=UTC)


def test_m4_appointment_items_show_the_unpaid_balance_to_check_before_the_visit(
        crm: CRM) -> None:
    crm.record_many([
        customer("C1", owner="li.wei"), customer("C2", owner="li.wei"),
        invoice("I1", "C1", "1200", due=20), invoice("I2", "C1", "30", currency="USD"),
        invoice("I3", "C2", "500", paid=10),
        Appointment(id="V1", customer_id="C1", owner="li.wei", purpose="maintenance visit",
                    starts_at=AS_OF + timedelta(hours=3)),
        Appointment(id="V2", customer_id="C2", owner="li.wei", purpose="training",
                    starts_at=AS_OF + timedelta(hours=3)),
    ])
    items = [i for i in PolicyService(crm, grades={}).agenda(AS_OF)
             if i.kind in (ActionKind.CONFIRMATION, ActionKind.REMINDER)]
    visit = [i.why for i in items if i.customer_id == "C1"]
    assert visit
    for why in visit:  # both currencies, each on its own; the days overdue of the oldest
        assert "unpaid balance 1,200.00 EUR + 30.00 USD on 2 invoice(s), 40 days overdue" in why
    assert all("unpaid" not in i.why for i in items if i.customer_id == "C2")  # paid up
