"""The domain model: attrs entities and value objects (K1-K3).

Every class is frozen and validated on construction: an invalid entity
cannot exist. Change one with :func:`attrs.evolve`.
"""

from crmcore.model.activity import (
    DEFAULT_CHANNEL,
    Direction,
    Interaction,
    InteractionKind,
    Outcome,
    Transaction,
)
from crmcore.model.customer import (
    AttributeValue,
    Celebration,
    Channel,
    ContactPerson,
    ContactPreferences,
    Customer,
    PartyKind,
    QuietHours,
)
from crmcore.model.feedback import SurveyResponse
from crmcore.model.registry import (
    ENTITY_TYPES,
    EntityType,
    entity_type,
    entity_type_of,
    register_entity_type,
    registered_entity_types,
)
from crmcore.model.sales import Opportunity, OpportunityStatus
from crmcore.model.service import Commitment, Priority, Ticket, TicketKind, TicketStatus

__all__ = [
    "DEFAULT_CHANNEL",
    "ENTITY_TYPES",
    "AttributeValue",
    "Celebration",
    "Channel",
    "Commitment",
    "ContactPerson",
    "ContactPreferences",
    "Customer",
    "Direction",
    "EntityType",
    "Interaction",
    "InteractionKind",
    "Opportunity",
    "OpportunityStatus",
    "Outcome",
    "PartyKind",
    "Priority",
    "QuietHours",
    "SurveyResponse",
    "Ticket",
    "TicketKind",
    "TicketStatus",
    "Transaction",
    "entity_type",
    "entity_type_of",
    "register_entity_type",
    "registered_entity_types",
]
