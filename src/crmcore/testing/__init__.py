"""The testing kit: what plugin authors and hosts need to test against crmcore.

* :mod:`crmcore.testing.pytest_plugin`: fixtures ``crmcore_plugin_manager``,
  ``crmcore_clock`` and ``crmcore_memory_crm``, loaded automatically by pytest
  wherever crmcore is installed, and the marker ``crmcore_contract``.
* :mod:`crmcore.testing.storage_contract`: :class:`StorageContract`, the
  tests every storage backend must pass. Subclass it and provide a ``storage``
  fixture.
* :mod:`crmcore.testing.notifier_contract`: :class:`NotifierContract`, the
  tests every notifier must pass. Subclass it and provide ``notifier`` and
  ``received`` fixtures (and ``failing_notifier`` if the target can be down).
* :mod:`crmcore.testing.scoring_contract`: :class:`ScoringContract`, the
  properties every scoring strategy must have. Provide a ``strategy`` fixture.
* :mod:`crmcore.testing.calendar_contract`: :class:`CalendarContract`, the
  properties every business calendar must have. Provide a ``calendar`` fixture.
* :mod:`crmcore.testing.factories`: ``make_customer(**overrides)`` and one
  ``make_*`` function per entity, with deterministic defaults that fit together.
* :mod:`crmcore.testing.strategies`: hypothesis strategies for every entity of
  :mod:`crmcore.model` and for domain events (needs hypothesis, from the
  ``plugin-kit`` extra).

The kit needs only pytest and hypothesis (``pip install 'crmcore[plugin-kit]'``),
never SQLAlchemy, psycopg, matplotlib, scipy or apprise.

The names below are re-exported lazily: importing this package imports neither
hypothesis nor pytest, so a host may use the factories in its own fixtures
without them::

    from crmcore.testing import StorageContract, make_customer, customers
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from crmcore.testing.calendar_contract import CalendarContract
    from crmcore.testing.factories import (
        CUSTOMER_ID,
        NOW,
        make_commitment,
        make_contact_person,
        make_customer,
        make_domain_event,
        make_interaction,
        make_opportunity,
        make_survey_response,
        make_ticket,
        make_transaction,
    )
    from crmcore.testing.notifier_contract import NotifierContract, ReceivedIds
    from crmcore.testing.scoring_contract import ScoringContract
    from crmcore.testing.storage_contract import StorageContract
    from crmcore.testing.strategies import (
        aware_datetimes,
        celebrations,
        commitments,
        contact_persons,
        contact_preferences,
        customers,
        domain_events,
        entities,
        for_type,
        interactions,
        opportunities,
        quiet_hours,
        survey_responses,
        tickets,
        transactions,
    )

__all__ = [
    "CUSTOMER_ID",
    "NOW",
    "CalendarContract",
    "NotifierContract",
    "ReceivedIds",
    "ScoringContract",
    "StorageContract",
    "aware_datetimes",
    "celebrations",
    "commitments",
    "contact_persons",
    "contact_preferences",
    "customers",
    "domain_events",
    "entities",
    "for_type",
    "interactions",
    "make_commitment",
    "make_contact_person",
    "make_customer",
    "make_domain_event",
    "make_interaction",
    "make_opportunity",
    "make_survey_response",
    "make_ticket",
    "make_transaction",
    "opportunities",
    "quiet_hours",
    "survey_responses",
    "tickets",
    "transactions",
]

# Searched in this order, cheapest first: a factory never drags in hypothesis.
_MODULES = (
    "crmcore.testing.factories",
    "crmcore.testing.strategies",
    "crmcore.testing.notifier_contract",
    "crmcore.testing.storage_contract",
    "crmcore.testing.scoring_contract",
    "crmcore.testing.calendar_contract",
)


def __getattr__(name: str) -> Any:
    """Import a re-exported name from its module on first use."""
    if name in __all__:
        for module_name in _MODULES:
            module = importlib.import_module(module_name)
            if hasattr(module, name):
                value = getattr(module, name)
                globals()[name] = value
                return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
