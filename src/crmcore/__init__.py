"""crmcore: customer-relationship rules as code for Python ERPs.

The public API is what this module exports; everything else is internal
unless its module documents otherwise.
"""

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _version

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

try:
    __version__ = _version("crmcore")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

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
