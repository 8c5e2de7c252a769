"""Grade and advance from the ``[source]`` the configuration names; store in crmcore only.

The ``[source]`` table names an ERP mapping and where its tables are::

    [source]
    erp = "odoo"               # or "erpnext", or a mapping file ("mapping.toml")
    url_env = "ODOO_DB_URL"    # or url = "postgresql://reader@db/odoo"

:func:`grade_source` computes the metrics inside the source's engine and
grades the one row per customer that comes back;
:func:`run_source_grading` stores the result in crmcore's own storage;
:func:`source_evidence` hands the lifecycle the source's customers and purchase
times, and the probability alive of its purchases. Nothing is ever written to
the source. Importing this module does not import Ibis; using a source does.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from crmcore.errors import ConfigError
from crmcore.grading import GradeScheme, GradeTable, GradingRun, configured_keep_runs, record_grades
from crmcore.i18n import tr
from crmcore.lifecycle.reading import EvidenceBook, read_evidence
from crmcore.ports import StorageSession
from crmcore_plugins.pushdown.sources import MappedSource, SourceSpec, source_from_options

if TYPE_CHECKING:
    from crmcore.app import CRM

SOURCE_SECTION = "source"
"""The configuration table naming the source."""


def configured_source(crm: CRM) -> SourceSpec | None:
    """The ``[source]`` of ``crm``'s configuration, or None when there is none."""
    options = crm.settings(SOURCE_SECTION)
    if not any(options.has(key) for key in ("erp", "url", "url_env")):
        options.check_all_used()
        return None
    return source_from_options(options)


def grade_source(source: SourceSpec | MappedSource, scheme: GradeScheme, *, as_of: datetime,
                 window_months: int = 12) -> GradeTable:
    """Grade every customer of ``source`` (its mapped customers and every buyer).

    Errors (a mapping naming a missing table or column, a URL that does not
    connect, a missing extra) are :class:`~crmcore.errors.ConfigError`
    naming the key; they happen before anything could be stored.
    """
    opened = source.open() if isinstance(source, SourceSpec) else source
    from crmcore_plugins.pushdown.grading import grade_pushdown  # Ibis is there: it connected

    return grade_pushdown(scheme, opened.purchases(), as_of=as_of, window_months=window_months,
                          customers=opened.customers())


def run_source_grading(crm: CRM, source: SourceSpec | MappedSource, scheme: GradeScheme, *,
                       as_of: datetime, window_months: int = 12) -> GradingRun:
    """:func:`grade_source`, then store the grade changes in ``crm`` (as ``run_grading`` does)."""
    table = grade_source(source, scheme, as_of=as_of, window_months=window_months)
    return record_grades(crm, table, keep_runs=configured_keep_runs(crm))


def _utc(moment: Any) -> datetime | None:
    if moment is None:
        return None
    if not isinstance(moment, datetime):
        raise ConfigError(tr("source: {value!r} is not a timestamp").format(value=moment))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def source_evidence(source: SourceSpec | MappedSource) -> SourceEvidence:
    """An evidence reader for :class:`~crmcore.lifecycle.service.LifecycleService`
    (see :class:`SourceEvidence`)."""
    return SourceEvidence(source)


class SourceEvidence:
    """The lifecycle's evidence and probability alive, read from a source.

    Called, it reads customers, acquisition times and purchase times from
    the source (the engine filters them by date and drops repeated moments;
    the rules walk each customer's history, so these times are read, not
    one row per customer); satisfaction answers and complaint tickets come
    from crmcore's own storage. :meth:`scores` scores the source's
    purchases with the lifecycle's scoring strategy (the ``clv`` model's
    purchase-day figures computed in the engine,
    :func:`crmcore_plugins.pushdown.clv.source_scores`).
    """

    def __init__(self, source: SourceSpec | MappedSource) -> None:
        self.source = source
        self._opened: MappedSource | None = None

    def opened(self) -> MappedSource:
        """The source, opened once (a connection) and reused."""
        if self._opened is None:
            self._opened = (self.source.open() if isinstance(self.source, SourceSpec)
                            else self.source)
        return self._opened

    def scores(self, strategy: Any, _session: StorageSession, until: datetime,
               as_of: datetime) -> dict[str, float]:
        """``strategy``'s scores of the source's purchases before ``until`` as of ``as_of``
        (the signature of the storage path's scoring, whose session is not needed)."""
        from crmcore_plugins.pushdown.clv import source_scores

        return source_scores(self.opened().purchases(), strategy, until=until, as_of=as_of)

    def __call__(self, session: StorageSession, until: datetime, *,
                 customer_ids: Collection[str] | None = None) -> EvidenceBook:
        """The evidence of the source's customers (or ``customer_ids``) before ``until``."""
        from crmcore_plugins.pushdown.metrics import moment

        opened = self.opened()
        stored = read_evidence(session, until, customer_ids=customer_ids)
        wanted = None if customer_ids is None else set(customer_ids)
        acquired: dict[str, datetime | None] = {}
        attributes: dict[str, dict[str, Any]] = {}
        for row in opened.customers().to_pyarrow().to_pylist():
            customer_id = str(row.pop("customer_id"))
            if wanted is None or customer_id in wanted:
                acquired[customer_id] = _utc(row.pop("acquired_at", None))
                attributes[customer_id] = {k: v for k, v in row.items() if v is not None}
        purchases = opened.purchases()
        times = purchases.filter(purchases["at"] < moment(purchases["at"], until)) \
            .select("customer_id", "at").distinct()
        bought: dict[str, list[datetime]] = {}
        for row in times.to_pyarrow().to_pylist():
            customer_id, at = row["customer_id"], _utc(row["at"])
            if at is not None and (wanted is None or customer_id in wanted):
                bought.setdefault(customer_id, []).append(at)
                acquired.setdefault(customer_id, None)
        return EvidenceBook(tuple(sorted(acquired)), acquired, attributes, bought,
                            stored.satisfaction, stored.complaints)
