"""The application service: the one door where core, storage and notifiers meet.

Hosts open a :class:`CRM` from a TOML file or keyword arguments, then record
and query entities. Every write runs in one storage transaction together with
the domain events it produced (the transactional outbox); after the commit,
observers are told and notifiers receive the events, with retries.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from crmcore._lazy import lazy_exports
from crmcore.clock import Clock, system_clock
from crmcore.errors import ConfigError, CrmError, DuplicateError, NotFoundError
from crmcore.i18n import tr
from crmcore.options import Options

if TYPE_CHECKING:
    from pathlib import Path
    from types import TracebackType

    import pluggy

    from crmcore.batch_import import ImportReport, RecordBatch
    from crmcore.config import ComponentConfig, CRMConfig
    from crmcore.delivery_worker import DeliveryWorker
    from crmcore.events import DomainEvent, EncodedEvent
    from crmcore.outbox import DeliveryReport, RetryPolicy
    from crmcore.plugins import PluginHost
    from crmcore.ports import Notifier, OutboxEntry, StorageBackend, StoredRecord
    from crmcore.unit_of_work import UnitOfWork

__all__ = ["CRM", "ImportReport"]

_MODULE_OF, __getattr__, __dir__ = lazy_exports(
    "crmcore.app", {"crmcore.batch_import": ("ImportReport",)}, globals())
"""``crmcore.app.ImportReport`` (re-exported for hosts), imported on first use."""

E = TypeVar("E")
_log = logging.getLogger(__name__)


class CRM:
    """crmcore's application service.

    Build one with :meth:`open`, :meth:`from_file` or :meth:`from_config`;
    close it (or use it as a context manager) when done.
    """

    def __init__(
        self,
        storage: StorageBackend,
        *,
        notifiers: Mapping[str, Notifier] | None = None,
        plugins: PluginHost | None = None,
        clock: Clock = system_clock,
        retry: RetryPolicy | None = None,
        auto_deliver: bool = True,
        config: CRMConfig | None = None,
    ) -> None:
        from crmcore.plugins import PluginHost

        self.storage = storage
        self._config = config
        self._config_later: Callable[[], CRMConfig] | None = None
        self.notifiers: dict[str, Notifier] = dict(notifiers or {})
        self.plugins = plugins if plugins is not None else PluginHost()
        """The plugins: a host made here loads them when first needed (the first write,
        a notifier, a calendar...), not to open a built-in store."""
        self.clock = clock
        self._retry = retry
        self.auto_deliver = auto_deliver
        self._worker: DeliveryWorker | None = None
        if self.notifiers and not getattr(storage, "read_only", False):
            with storage.transaction() as session:
                for name in self.notifiers:
                    session.subscribe(name)

    # -- opening ---------------------------------------------------------------

    @classmethod
    def open(
        cls,
        storage: str = "sqlite",
        *,
        notifiers: Sequence[str | ComponentConfig] = (),
        plugins: PluginHost | pluggy.PluginManager | None = None,
        clock: Clock = system_clock,
        auto_deliver: bool = True,
        **storage_options: Any,
    ) -> CRM:
        """Open with components chosen by name.

        ``CRM.open("sqlite", path="crm.db", notifiers=["log"])``; the
        keyword arguments not listed here are the storage backend's options.
        Without notifiers, :attr:`config` is built when first read, so opening a
        store imports no configuration code.
        """
        if notifiers:
            return cls.from_config(_named_config(storage, storage_options, notifiers, auto_deliver),
                                   plugins=plugins, clock=clock)
        host = _plugin_host(plugins)
        crm = cls(_open_storage(host, storage, Options(storage_options, "storage")),
                  plugins=host, clock=clock, auto_deliver=auto_deliver)
        crm._config_later = partial(_named_config, storage, storage_options, (), auto_deliver)
        return crm

    @classmethod
    def from_file(
        cls,
        path: str | Path,
        *,
        plugins: PluginHost | pluggy.PluginManager | None = None,
        clock: Clock = system_clock,
    ) -> CRM:
        """Open from a TOML configuration file (see :mod:`crmcore.config`)."""
        from crmcore.config import load_config

        return cls.from_config(load_config(path), plugins=plugins, clock=clock)

    @classmethod
    def from_config(
        cls,
        config: CRMConfig,
        *,
        plugins: PluginHost | pluggy.PluginManager | None = None,
        clock: Clock = system_clock,
    ) -> CRM:
        """Open from a :class:`~crmcore.config.CRMConfig`.

        A built-in storage backend opened without notifiers loads no plugin yet
        (see :meth:`~crmcore.plugins.PluginHost.storage_backend`).
        """
        host = _plugin_host(plugins)
        notifiers = {
            notifier.name: _build(host.notifiers().get(notifier.use, key=f"notifiers[{i}].use"),
                                  notifier.use, notifier.reader(f"notifiers[{i}]", config.base_dir),
                                  f"notifiers[{i}]")
            for i, notifier in enumerate(config.notifiers)
        }
        storage = _open_storage(host, config.storage.use,
                                config.storage.reader("storage", config.base_dir))
        return cls(storage, notifiers=notifiers, plugins=host, clock=clock,
                   retry=config.retry, auto_deliver=config.auto_deliver, config=config)

    @property
    def config(self) -> CRMConfig:
        """The configuration this service was opened from (:meth:`open`: its names and
        options, built when first read; made directly without one: the defaults)."""
        if self._config is None:
            if self._config_later is not None:
                self._config = self._config_later()
            else:
                from crmcore.config import CRMConfig

                self._config = CRMConfig()
        return self._config

    @config.setter
    def config(self, config: CRMConfig) -> None:
        self._config = config

    @property
    def retry(self) -> RetryPolicy:
        """How failed deliveries are retried (the configuration's when opened from one,
        else the default :class:`~crmcore.outbox.RetryPolicy`)."""
        if self._retry is None:
            from crmcore.outbox import RetryPolicy

            self._retry = RetryPolicy()
        return self._retry

    @retry.setter
    def retry(self, retry: RetryPolicy) -> None:
        self._retry = retry

    def close(self) -> None:
        """Stop the background deliverer (after a last run), then close the storage."""
        self.stop_delivery()
        self.storage.close()

    def __enter__(self) -> CRM:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def settings(self, section: str) -> Options:
        """A capability's settings from the configuration (``[lifecycle]``...)."""
        return self.config.settings(section)

    def now(self) -> datetime:
        """The current time according to this service's clock."""
        return self.clock()

    # -- writing -------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[UnitOfWork]:
        """A unit of work for several writes that must succeed or fail together.

        Events emitted on it are stored with the writes; after the commit
        they go to observers and, with ``auto_deliver``, to the notifiers.
        The plugins are loaded first, so one that fails to load stops the write.
        """
        from crmcore.unit_of_work import unit_of_work

        self.plugins.load()
        with unit_of_work(self.storage) as work:
            yield work
        self._after_commit(work.committed())

    def record(self, entity: Any) -> bool:
        """Store a new entity; return False when an identical one was already stored.

        A non-customer entity's ``customer_id`` must name a stored customer.
        Emits ``<kind>.recorded`` (e.g. ``transaction.recorded``).
        """
        return self.record_many([entity]) == 1

    def record_many(self, entities: Iterable[Any]) -> int:
        """Store many entities in one transaction: all of them, or none.

        Returns how many were new (identical repeats are skipped, so loading
        the same data twice does not duplicate it).
        """
        with self.transaction() as work:
            return sum(self._record_into(work, entities, emit_each=True).new.values())

    def import_entities(self, entities: Iterable[Any], *, source: str,
                        batch_size: int | None = None) -> ImportReport:
        """Store a stream of entities (a file's rows) in one transaction: all of it, or none.

        The entities are consumed in batches of ``batch_size`` (default
        :data:`~crmcore.batch_import.DEFAULT_BATCH_SIZE`), each checked and
        stored with set-based statements, so memory does not grow with the
        stream. Unlike :meth:`record_many`, emits one ``<kind>.imported`` event
        per kind (with the counts and ``source``) instead of one per row, so a
        million-row import does not flood the notifiers.
        """
        from crmcore.batch_import import DEFAULT_BATCH_SIZE, entity_batches

        return self.import_records(
            entity_batches(enumerate(entities, start=1), batch_size or DEFAULT_BATCH_SIZE),
            source=source)

    def import_records(self, batches: Iterable[RecordBatch], *, source: str,
                       create_customers: bool = False) -> ImportReport:
        """Like :meth:`import_entities`, for batches of records already built and validated.

        :func:`crmcore.csv_import.transaction_batches` makes them from a CSV
        file without building an object per row. A row naming an unknown
        customer raises :class:`~crmcore.batch_import.UnknownCustomerError`
        (with its line), unless ``create_customers`` stores a bare customer
        named by its id. Other content under a stored id raises
        :class:`~crmcore.batch_import.RowClashError`.
        """
        from crmcore.batch_import import BatchWriter
        from crmcore.events import ENTITY_IMPORTED, DomainEvent

        create = _bare_customer if create_customers else None
        with self.transaction() as work:
            writer = BatchWriter(work.session, create_customer=create)
            for batch in batches:
                writer.write(batch)
            report = writer.report
            for kind, rows in sorted(report.rows.items()):
                work.emit(DomainEvent(
                    type=ENTITY_IMPORTED.format(kind=kind), occurred_at=self.clock(),
                    subject=f"import:{source}",
                    data={"source": source, "rows": rows, "new": int(report.new[kind])},
                ))
        return report

    def _record_into(
        self, work: UnitOfWork, entities: Iterable[Any], *, emit_each: bool
    ) -> ImportReport:
        from crmcore.batch_import import (
            DEFAULT_BATCH_SIZE,
            BatchWriter,
            RecordBatch,
            RowClashError,
            UnknownCustomerError,
        )
        from crmcore.events import ENTITY_RECORDED, entity_event
        from crmcore.unit_of_work import to_record

        writer = BatchWriter(work.session)
        stream = iter(entities)
        done = 0
        while chunk := list(itertools.islice(stream, DEFAULT_BATCH_SIZE)):
            lines = range(done + 1, done + len(chunk) + 1)
            try:
                new = writer.write(RecordBatch([to_record(e) for e in chunk], lines))
            except UnknownCustomerError as error:  # the plain errors: no lines here
                raise NotFoundError(error.kind, error.entity_id, error.field) from None
            except RowClashError as error:
                raise DuplicateError(error.kind, error.entity_id) from None
            for position in new if emit_each else ():
                work.emit(entity_event(ENTITY_RECORDED, chunk[position], at=self.clock()))
            done += len(chunk)
        return writer.report

    def replace(self, entity: Any, *, expected_version: int | None = None) -> int:
        """Store a new version of an existing entity; return its version number.

        Pass ``expected_version`` (from :meth:`version`) to fail with
        :class:`~crmcore.errors.ConflictError` if someone else changed it
        meanwhile. Emits ``<kind>.updated``.
        """
        from crmcore.events import ENTITY_UPDATED, entity_event

        with self.transaction() as work:
            version = work.repository(type(entity)).replace(
                entity, expected_version=expected_version
            )
            work.emit(entity_event(ENTITY_UPDATED, entity, at=self.clock(), version=version))
        return version

    def _after_commit(self, events: Sequence[DomainEvent | EncodedEvent]) -> None:
        for event in events:
            self.plugins.event_committed(event)
        if not (events and self.notifiers):
            return
        if self._worker is not None:
            self._worker.wake()
        elif self.auto_deliver:
            self.deliver_events()

    # -- reading --------------------------------------------------------------------

    @contextmanager
    def reading(self) -> Iterator[UnitOfWork]:
        """A unit of work for reading only (nothing it emits or writes should be kept).

        On a backend with ``read_transaction`` (SQLite) it is a read
        transaction that never waits for a writer; elsewhere a transaction.
        """
        from crmcore.unit_of_work import UnitOfWork

        opener = getattr(self.storage, "read_transaction", None)
        context = opener() if callable(opener) else self.storage.transaction()
        with context as session:
            yield UnitOfWork(session)

    def get(self, cls: type[E], entity_id: str) -> E | None:
        """The stored entity of class ``cls`` with ``entity_id``, or None."""
        with self.reading() as work:
            return work.repository(cls).get(entity_id)

    def require(self, cls: type[E], entity_id: str) -> E:
        """Like :meth:`get`, but raise :class:`~crmcore.errors.NotFoundError` if absent."""
        with self.reading() as work:
            return work.repository(cls).require(entity_id)

    def version(self, cls: type[E], entity_id: str) -> int | None:
        """The stored version number of an entity (for ``expected_version``)."""
        with self.reading() as work:
            return work.repository(cls).version(entity_id)

    def find(
        self,
        cls: type[E],
        *,
        customer_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[E]:
        """Stored entities of class ``cls``, optionally one customer's, in a time range.

        ``since`` is inclusive and ``until`` exclusive; ordered by time, then id.
        """
        with self.reading() as work:
            return list(work.repository(cls).find(
                customer_id=customer_id, since=since, until=until))

    def count(self, cls: type[Any]) -> int:
        """How many entities of class ``cls`` are stored."""
        with self.reading() as work:
            return work.repository(cls).count()

    def events(self, *, after_seq: int = 0, limit: int | None = None) -> list[OutboxEntry]:
        """The stored domain events (the event log), oldest first."""
        with self.reading() as work:
            return work.session.events(after_seq=after_seq, limit=limit)

    # -- delivering -------------------------------------------------------------------

    def deliver_events(self) -> DeliveryReport:
        """Deliver every due event to every configured notifier (at least once).

        A notifier receives the events stored since it was first configured
        on this storage.
        """
        from crmcore.outbox import deliver_pending

        return deliver_pending(self.storage, self.notifiers, clock=self.clock, retry=self.retry)

    def start_delivery(self, *, interval: float = 5.0) -> DeliveryWorker:
        """Deliver in a background thread from now on: writes no longer wait on notifiers.

        Each commit with events wakes the worker; it also runs every
        ``interval`` seconds for retries. Stopped, after a last run, by
        :meth:`stop_delivery` or :meth:`close`. See :mod:`crmcore.delivery_worker`.
        """
        from crmcore.delivery_worker import DeliveryWorker

        if self._worker is None:
            self._worker = DeliveryWorker(self.deliver_events, interval=interval).start()
        return self._worker

    def stop_delivery(self, *, timeout: float = 10.0) -> None:
        """Stop the background deliverer, if any, after one last run (at most ``timeout`` s)."""
        worker, self._worker = self._worker, None
        if worker is not None and not worker.stop(timeout=timeout):
            _log.warning("the background deliverer did not finish within %s s; undelivered "
                         "events stay in the outbox for the next run", timeout)

    @contextmanager
    def delivering(self, *, interval: float = 5.0) -> Iterator[DeliveryWorker]:
        """``with crm.delivering():`` runs :meth:`start_delivery` ... :meth:`stop_delivery`."""
        worker = self.start_delivery(interval=interval)
        try:
            yield worker
        finally:
            self.stop_delivery()


def _bare_customer(customer_id: str) -> StoredRecord:
    """The record of a customer known only by its id (``--create-customers``)."""
    from crmcore.model.customer import Customer
    from crmcore.unit_of_work import to_record

    return to_record(Customer(id=customer_id, name=customer_id))


def _plugin_host(plugins: PluginHost | pluggy.PluginManager | None) -> PluginHost:
    from crmcore.plugins import PluginHost

    return plugins if isinstance(plugins, PluginHost) else PluginHost(plugins)


def _named_config(storage: str, storage_options: Mapping[str, Any],
                  notifiers: Sequence[str | ComponentConfig], auto_deliver: bool) -> CRMConfig:
    """The configuration :meth:`CRM.open` describes with names and keyword options."""
    from crmcore.config import ComponentConfig, CRMConfig

    return CRMConfig(
        storage=ComponentConfig(storage, storage_options),
        notifiers=tuple(item if isinstance(item, ComponentConfig) else ComponentConfig(item)
                        for item in notifiers),
        auto_deliver=auto_deliver,
    )


def _open_storage(host: PluginHost, use: str, options: Options) -> StorageBackend:
    """The storage backend registered as ``use``, built from ``options``."""
    storage: StorageBackend = _build(host.storage_backend(use, key="storage.backend"), use,
                                     options, "storage")
    return storage


def _build(factory: Any, use: str, options: Options, prefix: str) -> Any:
    try:
        built = factory(options)
    except CrmError:
        raise
    except Exception as error:
        raise ConfigError(tr("{key}: {value!r} could not be set up: {error}").format(
            key=prefix, value=use, error=error)) from error
    try:
        options.check_all_used()
    except ConfigError:
        close = getattr(built, "close", None)
        if callable(close):
            close()
        raise
    return built
