"""crmcore: customer-relationship rules as code for Python ERPs.

The public API is what this module exports; everything else is internal
unless its module documents otherwise. The names are imported on first use
(PEP 562), so ``import crmcore`` and ``crmcore --version`` stay fast.
"""

from __future__ import annotations

from crmcore._lazy import lazy_exports
from crmcore._version import __version__

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs start-up time
if TYPE_CHECKING:
    from crmcore.app import CRM, ImportReport
    from crmcore.clock import Clock, FixedClock, system_clock
    from crmcore.config import ComponentConfig, CRMConfig, load_config, parse_config
    from crmcore.errors import (
        ConfigError,
        ConflictError,
        CrmError,
        DuplicateError,
        ImportRowError,
        InvalidDataError,
        NotFoundError,
        PluginError,
        StorageError,
        TransitionError,
        ValidationError,
    )
    from crmcore.events import DomainEvent
    from crmcore.hookspecs import hookimpl, hookspec
    from crmcore.model import (
        Celebration,
        Channel,
        Commitment,
        ContactPerson,
        ContactPreferences,
        Customer,
        Direction,
        Interaction,
        InteractionKind,
        Opportunity,
        OpportunityStatus,
        Outcome,
        PartyKind,
        Priority,
        QuietHours,
        SurveyResponse,
        Ticket,
        TicketKind,
        TicketStatus,
        Transaction,
    )
    from crmcore.options import Options
    from crmcore.outbox import DeliveryReport, RetryPolicy
    from crmcore.plugins import PluginHost, make_plugin_manager
    from crmcore.ports import Notifier, ScoringStrategy, StorageBackend
    from crmcore.serialization import make_converter, structure, unstructure

_EXPORTS: dict[str, tuple[str, ...]] = {
    "crmcore.app": ("CRM", "ImportReport"),
    "crmcore.clock": ("Clock", "FixedClock", "system_clock"),
    "crmcore.config": ("ComponentConfig", "CRMConfig", "load_config", "parse_config"),
    "crmcore.errors": (
        "ConfigError", "ConflictError", "CrmError", "DuplicateError", "ImportRowError",
        "InvalidDataError", "NotFoundError", "PluginError", "StorageError", "TransitionError",
        "ValidationError",
    ),
    "crmcore.events": ("DomainEvent",),
    "crmcore.hookspecs": ("hookimpl", "hookspec"),
    "crmcore.model": (
        "Celebration", "Channel", "Commitment", "ContactPerson", "ContactPreferences", "Customer",
        "Direction", "Interaction", "InteractionKind", "Opportunity", "OpportunityStatus",
        "Outcome", "PartyKind", "Priority", "QuietHours", "SurveyResponse", "Ticket",
        "TicketKind", "TicketStatus", "Transaction",
    ),
    "crmcore.options": ("Options",),
    "crmcore.outbox": ("DeliveryReport", "RetryPolicy"),
    "crmcore.plugins": ("PluginHost", "make_plugin_manager"),
    "crmcore.ports": ("Notifier", "ScoringStrategy", "StorageBackend"),
    "crmcore.serialization": ("make_converter", "structure", "unstructure"),
}
"""Each public name by the module that defines it, imported when first used."""

_MODULE_OF, __getattr__, __dir__ = lazy_exports("crmcore", _EXPORTS, globals())
"""Each public name's module; ``crmcore.X`` imports X from it on first use (PEP 562)."""


__all__ = [
    "CRM",
    "CRMConfig",
    "Celebration",
    "Channel",
    "Clock",
    "Commitment",
    "ComponentConfig",
    "ConfigError",
    "ConflictError",
    "ContactPerson",
    "ContactPreferences",
    "CrmError",
    "Customer",
    "DeliveryReport",
    "Direction",
    "DomainEvent",
    "DuplicateError",
    "FixedClock",
    "ImportReport",
    "ImportRowError",
    "Interaction",
    "InteractionKind",
    "InvalidDataError",
    "NotFoundError",
    "Notifier",
    "Opportunity",
    "OpportunityStatus",
    "Options",
    "Outcome",
    "PartyKind",
    "PluginError",
    "PluginHost",
    "Priority",
    "QuietHours",
    "RetryPolicy",
    "ScoringStrategy",
    "StorageBackend",
    "StorageError",
    "SurveyResponse",
    "Ticket",
    "TicketKind",
    "TicketStatus",
    "Transaction",
    "TransitionError",
    "ValidationError",
    "__version__",
    "hookimpl",
    "hookspec",
    "load_config",
    "make_converter",
    "make_plugin_manager",
    "parse_config",
    "structure",
    "system_clock",
    "unstructure",
]
