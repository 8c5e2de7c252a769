"""The unpaid balance to check before a visit (S5: 查看客户是否有尾款未收; M4).

:func:`unpaid_notes` gives, for the customers with a visit or appointment on
the agenda, what is still open, per currency and with its days overdue, as
the text the agenda item shows (:attr:`crmcore.policies.agenda.Book.unpaid`).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from crmcore.i18n import tr
from crmcore.sales.receivables import Balance
from crmcore.sales.receivables_columns import stored_balances

if TYPE_CHECKING:
    from crmcore.app import CRM

__all__ = ["unpaid_note", "unpaid_notes"]


def unpaid_note(balance: Balance) -> str:
    """``1,200.00 EUR on 2 invoice(s), 15 days overdue`` (each currency on its own)."""
    overdue = tr(", {days} days overdue").format(days=balance.days_overdue) \
        if balance.days_overdue else ""
    return tr("{balance} on {count} invoice(s){overdue}").format(
        balance=balance.text(), count=balance.invoices, overdue=overdue)


def unpaid_notes(crm: CRM, customers: Collection[str], as_of: datetime) -> dict[str, str]:
    """Customer id -> :func:`unpaid_note` for those of ``customers`` with something open."""
    if not customers:
        return {}
    with crm.storage.transaction() as session:
        balances = stored_balances(session, as_of.astimezone(UTC).date(), customers=customers)
    return {who: unpaid_note(balance) for who, balance in balances.items()}
