"""Amounts in a currency, and totals that never mix currencies silently (M1, M3).

An opportunity's amount is a :class:`~decimal.Decimal` with an ISO 4217
currency code. :func:`totals_by_currency` adds amounts per currency;
:func:`single_total` adds them only when they share one currency and raises
:class:`MixedCurrencyError`, naming the currencies, when they do not. Amounts
whose currency or value is not stated are counted apart as unknown, never
taken as zero.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

import attrs

from crmcore.errors import ValidationError
from crmcore.i18n import tr

__all__ = ["MixedCurrencyError", "Totals", "single_total", "totals_by_currency"]


class MixedCurrencyError(ValidationError):
    """Amounts in several currencies were to be summed into one number.

    ``currencies`` lists them, sorted; convert the amounts first, or total
    them per currency (:func:`totals_by_currency`).
    """

    def __init__(self, currencies: Iterable[str], field: str = "currency") -> None:
        self.currencies = tuple(sorted(set(currencies)))
        super().__init__(field, list(self.currencies),
                         "are several currencies: amounts in different currencies are not "
                         "summed; convert them first or total them per currency")


@attrs.frozen
class Totals:
    """Sums per currency code, and how many amounts were left out as unknown.

    ``unknown`` counts the amounts without a value or without a currency.
    """

    by_currency: dict[str, Decimal]
    counts: dict[str, int]
    unknown: int

    def lines(self) -> list[str]:
        """One ``CUR amount (n)`` text per currency, then the unknown count if any."""
        made = [f"{code} {value:,.2f} ({self.counts[code]})"
                for code, value in sorted(self.by_currency.items())]
        if self.unknown:
            made.append(tr("amount or currency unknown ({count})").format(count=self.unknown))
        return made


def totals_by_currency(amounts: Iterable[tuple[Decimal | None, str | None]]) -> Totals:
    """Add ``(amount, currency)`` pairs per currency; a missing part makes it unknown."""
    sums: dict[str, Decimal] = {}
    counts: dict[str, int] = {}
    unknown = 0
    for amount, currency in amounts:
        if amount is None or currency is None:
            unknown += 1
            continue
        sums[currency] = sums.get(currency, Decimal(0)) + amount
        counts[currency] = counts.get(currency, 0) + 1
    return Totals(sums, counts, unknown)


def single_total(amounts: Iterable[tuple[Decimal | None, str | None]]
                 ) -> tuple[Decimal, str | None]:
    """The sum of amounts that share one currency, with that currency.

    No amount gives ``(0, None)``. Several currencies raise
    :class:`MixedCurrencyError`; an amount or currency not stated raises
    :class:`~crmcore.errors.ValidationError` (its share is unknown, not zero).
    """
    totals = totals_by_currency(amounts)
    if totals.unknown:
        raise ValidationError("amount", None, tr(
            "is not stated for {count} amount(s) (or their currency is not): the total is "
            "unknown").format(count=totals.unknown))
    if len(totals.by_currency) > 1:
        raise MixedCurrencyError(totals.by_currency)
    for currency, value in totals.by_currency.items():
        return value, currency
    return Decimal(0), None
