"""Receivables in the demo (M4): invoices for the generated purchases, credit limits, a section.

:func:`store_demo_receivables` invoices every purchase of the last 12 months
(net 30; most paid on time, some late, some still open; a few customers in
USD) and gives the customers with the largest open balances a credit limit
(some below what they owe). The same seed gives the same records, so a
second run stores nothing new. :func:`receivables_section` is the demo
report's "Receivables" section.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from crmcore.i18n import tr
from crmcore.model import Transaction
from crmcore.sales.credit import CreditLimit, CreditState, credit_statuses
from crmcore.sales.receivables import Receivable, money_text, open_balances
from crmcore.sales.receivables_columns import open_invoices, read_receivables

if TYPE_CHECKING:
    from crmcore.app import CRM
    from crmcore.demo.report import ReportContext, ReportSection

__all__ = ["LIMITED", "demo_receivables", "receivables_section", "store_demo_receivables"]

LIMITED = 12
"""How many customers (those owing the most) get a credit limit in the demo."""


def demo_receivables(purchases: list[Transaction], *, as_of: datetime, seed: int = 7
                     ) -> list[Any]:
    """Invoices for ``purchases`` of the 12 months before ``as_of``, and credit limits."""
    rng = random.Random(seed * 104_729 + 5)
    today = as_of.astimezone(UTC).date()
    made: list[Receivable] = []
    for purchase in sorted(purchases, key=lambda t: t.id):
        issued = purchase.occurred_at.astimezone(UTC).date()
        if not today - timedelta(days=365) <= issued <= today:
            continue
        draw = rng.random()
        paid_after = rng.randint(3, 30) if draw < 0.65 else rng.randint(31, 100) \
            if draw < 0.85 else None
        paid_on = None if paid_after is None else issued + timedelta(days=paid_after)
        if paid_on is not None and paid_on > today:
            paid_on = None
        amount = purchase.amount.quantize(Decimal("0.01"))
        made.append(Receivable(
            id=f"INV-{purchase.id}", customer_id=purchase.customer_id, amount=amount,
            currency="USD" if sum(map(ord, purchase.customer_id)) % 15 == 0 else "EUR",
            issued_on=issued, due_on=issued + timedelta(days=30), paid_on=paid_on,
            paid_amount=amount if paid_on is not None else Decimal(0)))
    owing = sorted(((who, balance) for who, balance in open_balances(made, today).items()
                    if len(balance.open_cents) == 1),
                   key=lambda item: (-max(item[1].open_cents.values()), item[0]))[:LIMITED]
    limits = []
    for who, balance in owing:
        ((currency, cents),) = balance.open_cents.items()
        limit = Decimal(max(100, round(cents / 100 * rng.uniform(0.7, 1.6), -2)))
        limits.append(CreditLimit(who, limit, currency))
    return [*made, *limits]


def store_demo_receivables(crm: CRM, as_of: datetime, *, seed: int = 7) -> int:
    """Store the demo's invoices and limits for the stored purchases; return how many are new."""
    purchases = crm.find(Transaction, since=as_of - timedelta(days=366), until=as_of)
    report = crm.import_entities(demo_receivables(purchases, as_of=as_of, seed=seed),
                                 source=f"demo receivables seed={seed}")
    return sum(report.new.values())


def receivables_section(context: ReportContext) -> ReportSection:
    """Open and overdue amounts per currency, and who is over its credit limit."""
    from crmcore.demo.report import ReportSection  # the report imports this module

    today = context.as_of.astimezone(UTC).date()
    with context.crm.storage.transaction() as session:
        invoices = read_receivables(session)
        statuses = credit_statuses(session, today)
    open_: dict[str, int] = {}
    overdue: dict[str, int] = {}
    late: dict[str, set[str]] = {}
    owing: set[str] = set()
    for who, currency, left, days in open_invoices(invoices, today):
        owing.add(who)
        open_[currency] = open_.get(currency, 0) + left
        if days:
            overdue[currency] = overdue.get(currency, 0) + left
            late.setdefault(currency, set()).add(who)
    over = [s.customer_id for s in statuses if s.state is CreditState.OVER]
    unknown = sum(1 for s in statuses if s.state is CreditState.UNKNOWN)
    lines = [tr("invoices {count}, {owing} customer(s) owing").format(count=len(invoices),
                                                                     owing=len(owing))]
    lines.extend(tr("open {open:>18}, overdue {overdue:>18} ({late} customer(s))").format(
        open=money_text(cents, currency), overdue=money_text(overdue.get(currency, 0), currency),
        late=len(late.get(currency, ()))) for currency, cents in sorted(open_.items()))
    shown = ", ".join(over[:5]) + (", ..." if len(over) > 5 else "")
    lines.append(tr("credit limits {count}: over {over}").format(count=len(statuses),
                                                                over=len(over))
                 + (f" ({shown})" if over else "")
                 + (tr(", unknown {count}").format(count=unknown) if unknown else ""))
    return ReportSection(tr("Receivables"), tuple(lines))
