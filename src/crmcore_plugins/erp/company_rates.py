"""Which rate converts a document, as Odoo picks it: per company, through the root company.

Pure Ibis expressions over tables already read by
:func:`crmcore_plugins.erp.erp_purchases`: no backend, no mapping loading.

- :func:`root_companies`: each company's root (Odoo 17 branches share their
  root company's currency and rates; the root is the first id of
  ``res_company.parent_path``).
- :func:`valid_rates`: per document, the rate of a currency valid on its day
  (the company's own rate first, then a rate of no company; the latest on or
  before the day; with ``later``, Odoo's fallback to the earliest later rate).

Needs the ``pushdown`` extra (Ibis).
"""

from __future__ import annotations

from typing import Any

from crmcore_plugins.erp.purchases_mapping import RootCompany


def root_companies(companies: Any, root: RootCompany) -> Any:
    """``companies`` (the table ``root`` names) as ``_root_key`` (a company's id, as text)
    and ``_root`` (its root company's id, as text: the part of its path before the first
    ``/``; the company itself when its path is empty)."""
    import ibis

    key: Any = companies[root.key_column].cast("string")
    path: Any = companies[root.path].cast("string")
    cut: Any = path.find("/")
    first = ibis.cases((cut > 0, path.substr(0, cut)), (path.length() > 0, path), else_=key)
    return companies.select(_root_key=key, _root=first)


def valid_rates(documents: Any, rates: Any, *, currency: str = "_currency",
                name: str = "_rate", later: bool = False) -> Any:
    """Per document id (``_rated_id``), as column ``name``, the rate of its ``currency``
    column valid on its ``_day`` for its ``_company`` (text), as Odoo's ``_get_rates``
    picks it: among the rates of the company or of no company, the company's own first,
    then the latest on or before the day. With ``later``, a currency with no such rate
    takes its earliest later one (Odoo's fallback); without, it has no row here.

    ``rates`` has ``_rate_currency``, ``_rate_date``, ``_rate`` and ``_rate_company``.
    """
    import ibis

    candidates = documents.select(_rated_id=documents["_id"], _day=documents["_day"],
                                  _rated_currency=documents[currency],
                                  _rated_company=documents["_company"].cast("string"))
    company: Any = rates["_rate_company"]
    joins = ((candidates["_rated_currency"] == rates["_rate_currency"])
             & (company.isnull() | (company == candidates["_rated_company"])))
    if not later:
        joins = joins & (rates["_rate_date"] <= candidates["_day"])
    matched = candidates.join(rates, joins)
    matched = matched.mutate(_shared=ibis.cases((matched["_rate_company"].isnull(), 1),
                                                else_=0))
    date: Any = matched["_rate_date"]
    order: list[Any] = [matched["_shared"], ibis.desc(date)]
    if later:  # on or before the day first; among later rates only, the earliest
        late: Any = date > matched["_day"]
        order = [ibis.cases((late, 1), else_=0), matched["_shared"],
                 ibis.desc(ibis.cases((~late, date), else_=ibis.null("date"))),
                 ibis.cases((late, date), else_=ibis.null("date"))]
    matched = matched.mutate(_pick=ibis.row_number().over(
        ibis.window(group_by="_rated_id", order_by=order)))
    chosen = matched.filter(matched["_pick"] == 0)
    return chosen.select(_rated_id=chosen["_rated_id"], **{name: chosen["_rate"]})
