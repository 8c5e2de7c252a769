"""``crmcore receivables import --erp MAPPING --url URL``: open invoices read from the ERP (M4)."""

from __future__ import annotations

import argparse

from crmcore.cli.common import open_crm
from crmcore.sales.receivables import money_text, to_hundredths


def run_erp_import(arguments: argparse.Namespace) -> int:
    """Read the ERP's open invoices (nothing written there), then store them all or none."""
    from crmcore_plugins.erp import load_mapping
    from crmcore_plugins.erp.receivables import erp_receivables, import_erp_receivables
    from crmcore_plugins.pushdown.sources import connect

    mapping = load_mapping(arguments.erp)
    backend = connect(arguments.url, key="--url")
    try:
        with open_crm(arguments) as crm:
            read = erp_receivables(backend, mapping, as_of=crm.now().date())
            report = import_erp_receivables(crm, read, source=f"erp:{mapping.name}")
    finally:
        backend.disconnect()
    print(f"receivable: {report.rows['receivable']:,} rows, {report.new['receivable']:,} new, "
          f"{report.skipped['receivable']:,} already stored; {read.settled:,} paid in full "
          "left out")
    for (customer, currency), amount in read.unapplied.items():
        print(f"unapplied credit of {customer}: {money_text(to_hundredths(amount), currency)} "
              "(not stored)")
    return 0
