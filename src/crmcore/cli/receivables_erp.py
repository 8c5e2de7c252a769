"""``crmcore receivables import --erp MAPPING --url URL``: open invoices read from the ERP (M4)."""

from __future__ import annotations

import argparse

from crmcore.cli.common import open_crm
from crmcore.i18n import tr
from crmcore.sales.receivables import money_text, to_hundredths


def run_erp_import(arguments: argparse.Namespace) -> int:
    """Read the ERP's open invoices (nothing written there), then store them all or none."""
    from crmcore_plugins.erp import load_mapping
    from crmcore_plugins.erp.receivables import erp_receivables
    from crmcore_plugins.erp.receivables_store import import_erp_receivables
    from crmcore_plugins.pushdown.sources import connect

    mapping = load_mapping(arguments.erp)
    backend = connect(arguments.url, key="--url")
    try:
        with open_crm(arguments) as crm:
            read = erp_receivables(backend, mapping, as_of=crm.now().date())
            stored = import_erp_receivables(crm, read, source=f"erp:{mapping.name}")
    finally:
        backend.disconnect()
    report = stored.report
    print(tr("receivable: {rows} rows, {new} new, {skipped} already stored; {settled} paid in "
             "full left out").format(rows=f"{report.rows['receivable']:,}",
                                     new=f"{report.new['receivable']:,}",
                                     skipped=f"{report.skipped['receivable']:,}",
                                     settled=f"{stored.left_out:,}"))
    print(tr("receivable: {updated} updated (paid or credited since the last import)").format(
        updated=f"{stored.updated:,}"))
    for (customer, currency), amount in read.unapplied.items():
        print(tr("unapplied credit of {customer}: {amount} (not stored)").format(
            customer=customer, amount=money_text(to_hundredths(amount), currency)))
    return 0
