"""Read customers and transactions straight from an ERP's own tables (no copying).

:class:`ErpSource` reads through a declarative :class:`ErpMapping` (a TOML
file naming tables, columns and filters); crmcore ships ``odoo`` and
``erpnext`` mappings. Needs the ``sql`` extra (SQLAlchemy and a driver)::

    from crmcore_plugins.erp import ErpSource

    with ErpSource.from_toml("odoo", "postgresql+psycopg://odoo@db/odoo") as erp:
        customers = list(erp.customers())
        sales = list(erp.transactions(since=start, until=end))

Importing this package does not import SQLAlchemy; connecting does.
"""

from crmcore_plugins.erp.mapping import (
    BUILTIN_MAPPINGS,
    OPERATORS,
    Condition,
    ErpMapping,
    TableMapping,
    load_mapping,
    mapping_from_dict,
    parse_mapping,
)
from crmcore_plugins.erp.source import ErpSource, TransactionColumns

__all__ = [
    "BUILTIN_MAPPINGS",
    "OPERATORS",
    "Condition",
    "ErpMapping",
    "ErpSource",
    "TableMapping",
    "TransactionColumns",
    "load_mapping",
    "mapping_from_dict",
    "parse_mapping",
]
