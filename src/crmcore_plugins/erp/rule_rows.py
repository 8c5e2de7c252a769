"""The ``[purchases]`` rules for the row-by-row reader: the pushdown's purchases, streamed.

A mapping's ERP rules (roll-up, drafts and cancelled documents excluded,
currency conversion, credit notes netted out) are described once, as the Ibis
expression of :func:`~crmcore_plugins.erp.erp_purchases`.
:class:`~crmcore_plugins.erp.ErpSource` does not implement them a second
time: for a mapping with a ``[purchases]`` section it runs that expression
in the ERP's database (through Ibis, on a connection of its own to the same
URL) and streams the resulting purchases, so the row path and the pushdown
yield the same purchases by construction. Needs the ``pushdown`` extra.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import attrs

from crmcore.errors import ConfigError
from crmcore.i18n import tr
from crmcore_plugins.erp.mapping import ErpMapping
from crmcore_plugins.erp.purchases import erp_purchases

_BATCH_ROWS = 10_000


@attrs.frozen
class RulePurchase:
    """One purchase by the ERP's rules: its document's id, the customer it counts for, its
    time (aware UTC) and its amount in the company currency (two decimals, never negative
    for a well-kept ERP)."""

    id: str
    customer_id: str
    occurred_at: datetime
    amount: Decimal


def ibis_backend(url: str, key: str = "url") -> Any:
    """An Ibis backend on the database ``url`` names; :class:`ConfigError` naming ``key``
    when Ibis (the ``pushdown`` extra) is missing or the URL does not connect."""
    try:
        from crmcore_plugins.pushdown.sources import connect
    except ImportError as error:
        raise ConfigError(tr("{key}: a mapping with a [purchases] section is read by its rules "
                             "through Ibis ({missing}); pip install 'crmcore[pushdown]'").format(
                                 key=key, missing=error.name or error)) from error
    return connect(url, key=key)


def _utc(value: Any) -> datetime:
    """An engine time as aware UTC (naive times are UTC, as the pushdown reads them)."""
    when = value if isinstance(value, datetime) else datetime(value.year, value.month,
                                                               value.day)
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def rule_purchases(backend: Any, mapping: ErpMapping, since: datetime | None = None,
                   until: datetime | None = None) -> Iterator[RulePurchase]:
    """The purchases of ``mapping``'s ``[purchases]`` rules with ``since <= at < until``,
    by time then id, streamed in batches from the engine (``backend``, an Ibis backend).

    The filter and the order run in the engine; errors are the pushdown's (a missing
    table or column names the mapping key, a currency without a rate names the row).
    """
    from crmcore_plugins.pushdown.metrics import moment

    purchases = erp_purchases(backend, mapping, ids=True)
    at = purchases["at"]
    if since is not None:
        purchases = purchases.filter(at >= moment(at, since))
    if until is not None:
        purchases = purchases.filter(at < moment(at, until))
    ordered = purchases.order_by(["at", "id"])
    for batch in ordered.to_pyarrow_batches(chunk_size=_BATCH_ROWS):
        columns = batch.to_pydict()
        for document, customer, when, cents in zip(
                columns["id"], columns["customer_id"], columns["at"], columns["amount_cents"],
                strict=True):
            yield RulePurchase(str(document), str(customer), _utc(when),
                               Decimal(int(cents)).scaleb(-2))
