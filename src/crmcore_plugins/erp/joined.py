"""Customer attributes held by other tables, joined in the engine (Ibis).

A mapping names them in ``[customers.attributes]`` as
``{ via = ..., table = ..., key = ..., column = ... }`` (see
:class:`~crmcore_plugins.erp.mapping.JoinedAttribute`): Odoo's country code
through ``country_id``, ERPNext's country through the customer's primary
address. Each is one left join, so a customer without the linked row keeps
its row with the attribute NULL.
"""

from __future__ import annotations

from typing import Any

from crmcore_plugins.erp.mapping import ErpMapping
from crmcore_plugins.erp.purchases import mapped_table


def join_attributes(backend: Any, mapping: ErpMapping, customers: Any
                    ) -> tuple[Any, dict[str, Any]]:
    """``customers`` (the mapped customers table, filtered) left-joined to the tables of
    its joined attributes, and each attribute's column in the result by name.

    A missing table or column is a :class:`~crmcore.errors.ConfigError` naming
    the attribute's key (``customers.attributes.country.column``).
    """
    joined = customers
    found: dict[str, Any] = {}
    for index, (name, attribute) in enumerate(mapping.customers.joined.items()):
        other = mapped_table(backend, attribute.table,
                             [(f"{attribute.key}.key", attribute.key_column),
                              (f"{attribute.key}.column", attribute.column)],
                             attribute.key, mapping.schema)
        key_name, value_name = f"_joined_key_{index}", f"_joined_{index}"
        other = other.select(**{key_name: other[attribute.key_column],
                                value_name: other[attribute.column]})
        joined = joined.left_join(other, customers[attribute.via] == other[key_name])
        found[name] = joined[value_name]
    return joined, found
