"""The table of entity kinds: what storage, import and serialization iterate over."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

from crmcore.errors import CrmError
from crmcore.i18n import tr
from crmcore.model.activity import Interaction, Transaction
from crmcore.model.customer import ContactPerson, Customer
from crmcore.model.feedback import SurveyResponse
from crmcore.model.sales import Opportunity
from crmcore.model.service import Commitment, Ticket


@attrs.frozen
class EntityType:
    """How an entity class is stored: its kind name and its indexed fields.

    ``customer_field`` names the attribute holding the owning customer's id
    and ``time_field`` the attribute used for date-range queries (or None).
    """

    kind: str
    cls: type[Any]
    customer_field: str
    time_field: str | None

    def customer_id(self, entity: Any) -> str:
        """The id of the customer ``entity`` belongs to."""
        return str(getattr(entity, self.customer_field))

    def timestamp(self, entity: Any) -> datetime | None:
        """The moment ``entity`` is filed under for range queries."""
        return None if self.time_field is None else getattr(entity, self.time_field)


ENTITY_TYPES: tuple[EntityType, ...] = (
    EntityType("customer", Customer, "id", "acquired_at"),
    EntityType("contact", ContactPerson, "customer_id", None),
    EntityType("transaction", Transaction, "customer_id", "occurred_at"),
    EntityType("interaction", Interaction, "customer_id", "occurred_at"),
    EntityType("ticket", Ticket, "customer_id", "opened_at"),
    EntityType("opportunity", Opportunity, "customer_id", "received_at"),
    EntityType("survey_response", SurveyResponse, "customer_id", "answered_at"),
    EntityType("commitment", Commitment, "customer_id", "due_at"),
)
"""The entity kinds of the customer file (K1), customers first."""

_BY_KIND: dict[str, EntityType] = {}
_BY_CLASS: dict[type[Any], EntityType] = {}


def register_entity_type(new: EntityType) -> EntityType:
    """Make a class storable under ``new.kind`` (capabilities call this for their records).

    Registering the same class under the same kind again is harmless; a kind
    or class already taken by another registration raises ``CrmError``.
    """
    for index, taken in ((new.kind, _BY_KIND.get(new.kind)), (new.cls, _BY_CLASS.get(new.cls))):
        if taken is not None and taken != new:
            raise CrmError(tr("entity kind {kind!r} is already registered as {taken}").format(
                kind=index, taken=taken))
    _BY_KIND[new.kind] = new
    _BY_CLASS[new.cls] = new
    return new


def registered_entity_types() -> tuple[EntityType, ...]:
    """Every registered entity kind, in registration order."""
    return tuple(_BY_KIND.values())


for _core_type in ENTITY_TYPES:
    register_entity_type(_core_type)


def entity_type(kind_or_class: str | type[Any]) -> EntityType:
    """Look up an :class:`EntityType` by kind name or by class."""
    found = (
        _BY_KIND.get(kind_or_class) if isinstance(kind_or_class, str)
        else _BY_CLASS.get(kind_or_class)
    )
    if found is None:
        known = ", ".join(sorted(_BY_KIND))
        raise CrmError(tr("{value!r} is not an entity kind (known: {known})").format(
            value=kind_or_class, known=known))
    return found


def entity_type_of(entity: Any) -> EntityType:
    """The :class:`EntityType` of an entity instance."""
    return entity_type(type(entity))
