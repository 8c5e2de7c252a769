"""A crmcore plugin made from the template: a scoring strategy and a command.

``total-spend`` (a :class:`~crmcore.ports.ScoringStrategy`) scores each customer
by what they spent in the ``window_days`` (default 365) before ``as_of``; choose it
as the potential axis of value-matrix grading in a configuration file::

    [grading.potential]
    use = "total-spend"
    window_days = 180

``crmcore myplugin-about`` prints what the plugin registers.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from crmcore import Options, hookimpl
from crmcore.model import Transaction

__version__ = "0.1.0"

STRATEGIES = ("total-spend",)
"""The scoring strategies this plugin registers."""


class TotalSpendScoring:
    """Scores each customer by the amount spent in a window before ``as_of``."""

    def __init__(self, window_days: int = 365) -> None:
        self.window_days = window_days

    def score(self, transactions: Sequence[Transaction], *, as_of: datetime
              ) -> Mapping[str, float]:
        """Spend in the window of every customer who bought before ``as_of`` (0.0 when
        their purchases are all older than the window)."""
        start = as_of - timedelta(days=self.window_days)
        totals: dict[str, Decimal] = {}
        for purchase in transactions:
            if purchase.occurred_at < as_of:
                spent = purchase.amount if purchase.occurred_at >= start else Decimal(0)
                totals[purchase.customer_id] = totals.get(purchase.customer_id, Decimal(0)) + spent
        return {customer_id: float(total) for customer_id, total in totals.items()}


def open_total_spend(options: Options) -> TotalSpendScoring:
    """Factory of ``total-spend``: option ``window_days`` (default 365, at least 1)."""
    return TotalSpendScoring(options.integer("window_days", 365, minimum=1))


def open_about(parser: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    """Show what crmcore-myplugin registers."""

    def run(arguments: argparse.Namespace) -> int:
        print(f"crmcore-myplugin {__version__}: scoring {', '.join(STRATEGIES)}")
        return 0

    return run


@hookimpl
def crmcore_register_scoring(register: Callable[[str, Callable[[Options], object]], None]
                             ) -> None:
    """Register the ``total-spend`` scoring strategy."""
    register("total-spend", open_total_spend)


@hookimpl
def crmcore_register_commands(
    register: Callable[[str, Callable[[argparse.ArgumentParser], object]], None]
) -> None:
    """Add the command ``crmcore myplugin-about``."""
    register("myplugin-about", open_about)
