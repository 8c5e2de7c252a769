"""Read customers and transactions straight from an ERP's own tables (no copying).

:class:`ErpSource` reads through a declarative :class:`ErpMapping` (a TOML
file naming tables, columns and filters); crmcore ships ``odoo`` and
``erpnext`` mappings. Needs the ``sql`` extra (SQLAlchemy and a driver)::

    from crmcore_plugins.erp import ErpSource

    with ErpSource.from_toml("odoo", "postgresql+psycopg://odoo@db/odoo") as erp:
        customers = list(erp.customers())
        sales = list(erp.transactions(since=start, until=end))

:func:`erp_purchases` computes the purchases inside the ERP's database by the
ERP's own rules (a mapping's ``[purchases]`` section), as one Ibis table.

Importing this package imports neither SQLAlchemy nor Ibis; connecting does.
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
from crmcore_plugins.erp.purchases import PURCHASE_COLUMNS, RATE_COLUMNS, erp_purchases
from crmcore_plugins.erp.source import ErpSource, TransactionColumns

__all__ = [
    "BUILTIN_MAPPINGS",
    "OPERATORS",
    "PURCHASE_COLUMNS",
    "RATE_COLUMNS",
    "Condition",
    "ErpMapping",
    "ErpSource",
    "TableMapping",
    "TransactionColumns",
    "erp_purchases",
    "load_mapping",
    "mapping_from_dict",
    "parse_mapping",
]
