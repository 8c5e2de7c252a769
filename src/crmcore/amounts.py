"""Amounts as exports write them: currency signs and codes, thousands separators.

The user says which form a file uses (``--amount-format``, or ``amount_format`` in a
CSV layout); the form is never guessed, because ``1.200`` is one thousand two hundred
in Germany and one point two in China. Each :class:`AmountFormat` accepts:

* an optional sign, then digits, either ungrouped (``1200``) or in groups of three
  separated throughout by one of the form's thousands separators (``1,200``);
* an optional fraction after the form's decimal point;
* for the forms with a currency, one of its currency signs or codes before or after
  the number, with or without a space (``¥1,200.00``, ``1,200.00 元``, ``1 200,50 €``).

Text is NFKC-normalised first, so full-width forms read as their ASCII counterparts
(``￥１２００`` is ``¥1200``) and a no-break space is a space. Anything else is
refused with :class:`ValueError` (a row reader turns it into an error naming the row,
column and value).

>>> from crmcore.amounts import FORMATS
>>> FORMATS["cn"].parse("¥1,200.00"), FORMATS["cn"].parse("1,200.00 元")
(Decimal('1200.00'), Decimal('1200.00'))
>>> FORMATS["eu"].parse("1 200,50 €")
Decimal('1200.50')
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal

import attrs

from crmcore.errors import ValidationError
from crmcore.i18n import N_, tr

__all__ = ["AMOUNT_FORMATS", "FORMATS", "AmountFormat", "amount_format"]


@attrs.frozen
class AmountFormat:
    """One written form of amounts: decimal ``point``, accepted ``thousands`` separators
    and ``currencies`` (signs or codes, before or after the number)."""

    name: str
    point: str
    thousands: tuple[str, ...]
    currencies: tuple[str, ...] = ()
    description: str = ""
    _pattern: re.Pattern[str] = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        separators = "|".join(map(re.escape, self.thousands))
        number = (rf"(?P<sign>[+-]?)(?P<whole>\d+|\d{{1,3}}(?P<sep>{separators})\d{{3}}"
                  rf"(?:(?P=sep)\d{{3}})*)(?:{re.escape(self.point)}(?P<fraction>\d+))?")
        if self.currencies:
            currency = "|".join(map(re.escape, sorted(self.currencies, key=len, reverse=True)))
            number = rf"(?:(?:{currency})\s?)?{number}(?:\s?(?:{currency}))?"
        object.__setattr__(self, "_pattern", re.compile(number))

    def parse(self, text: str) -> Decimal:
        """The amount ``text`` writes in this form, exactly; :class:`ValueError` otherwise."""
        normal = unicodedata.normalize("NFKC", text).strip() if self.currencies or \
            not text.isascii() else text
        match = self._pattern.fullmatch(normal)
        if match is None or (self.currencies and _two_currencies(normal)):
            raise ValueError(tr("{text!r} is not an amount in the {form} form "
                                "({description})").format(text=text, form=self.name,
                                                          description=tr(self.description)))
        whole = match["whole"]
        if match["sep"]:
            whole = whole.replace(match["sep"], "")
        fraction = match["fraction"]
        return Decimal(f"{match['sign']}{whole}{'.' + fraction if fraction else ''}")


def _two_currencies(text: str) -> bool:
    """Whether a currency is written both before and after the number (``¥1200元``)."""
    return text[:1] not in "+-0123456789" and not text[-1:].isdigit()


FORMATS: dict[str, AmountFormat] = {
    form.name: form for form in (
        AmountFormat("plain", ".", (",",), (), N_("1234.50 or 1,234.50")),
        AmountFormat("comma", ",", (".",), (), N_("1234,50 or 1.234,50")),
        AmountFormat("cn", ".", (",",), ("¥", "CNY", "RMB", "元", "人民币"),
                     N_("¥1,200.00, ￥1200, 1,200.00 元, CNY 1200")),
        AmountFormat("eu", ",", (".", " "), ("€", "EUR"),
                     N_("1 200,50 €, 1.200,50 EUR, €1200,50")),
    )
}
"""The amount forms by name: ``plain`` (the default), ``comma`` (decimal comma), ``cn``
(yuan signs and codes) and ``eu`` (euro, decimal comma, dot or space thousands)."""

AMOUNT_FORMATS: tuple[str, ...] = tuple(FORMATS)
"""The names of :data:`FORMATS`, for option choices."""


def amount_format(name: str, decimal_comma: bool = False) -> AmountFormat:
    """The form called ``name``; ``decimal_comma`` turns ``plain`` into ``comma``.

    An unknown name, or ``decimal_comma`` with a form whose point is not a comma,
    raises :class:`~crmcore.errors.ValidationError` naming ``amount_format``.
    """
    form = FORMATS.get(name)
    if form is None:
        raise ValidationError("amount_format", name,
                              tr("is not an amount form (known: {known})").format(
                                  known=", ".join(AMOUNT_FORMATS)))
    if decimal_comma and form.name == "plain":
        return FORMATS["comma"]
    if decimal_comma and form.point != ",":
        raise ValidationError("amount_format", name, "writes a decimal point, not the decimal "
                                                     "comma that decimal_comma asks for")
    return form
