"""Customer value (G7): delivered value and a simple lifetime value.

Delivered value = total customer value (product, service, personnel,
image) − total customer cost (money, time, energy). A customer's simple
lifetime value is what they spend per order × orders a year × years, plus
what word of mouth brings: of the people a satisfied customer tells, a share
become customers too. A fitted lifetime-value model (BG/NBD with
Gamma-Gamma) is the ``clv`` scoring strategy; this is the arithmetic of the
catalogue's example, for explanations and quick estimates.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from crmcore.errors import ValidationError
from crmcore.validation import non_negative_decimal


@attrs.frozen
class DeliveredValue:
    """What a customer gets from us minus what it costs them (G7)."""

    product: Decimal = attrs.field(default=Decimal(0), validator=non_negative_decimal)
    service: Decimal = attrs.field(default=Decimal(0), validator=non_negative_decimal)
    personnel: Decimal = attrs.field(default=Decimal(0), validator=non_negative_decimal)
    image: Decimal = attrs.field(default=Decimal(0), validator=non_negative_decimal)
    money: Decimal = attrs.field(default=Decimal(0), validator=non_negative_decimal)
    time: Decimal = attrs.field(default=Decimal(0), validator=non_negative_decimal)
    energy: Decimal = attrs.field(default=Decimal(0), validator=non_negative_decimal)

    @property
    def total_value(self) -> Decimal:
        """Product + service + personnel + image value."""
        return self.product + self.service + self.personnel + self.image

    @property
    def total_cost(self) -> Decimal:
        """Money + time + energy cost."""
        return self.money + self.time + self.energy

    @property
    def delivered(self) -> Decimal:
        """Total value minus total cost."""
        return self.total_value - self.total_cost


@attrs.frozen
class LifetimeValue:
    """The result of :func:`simple_lifetime_value`."""

    per_year: Decimal
    over_years: Decimal
    referred_customers: Decimal
    with_referrals: Decimal


def simple_lifetime_value(order_value: Decimal, orders_per_year: int, years: int, *,
                          tells: int = 0, come_share: Decimal = Decimal(0)) -> LifetimeValue:
    """Order value × orders a year × years, plus referred customers worth the same.

    The catalogue's example: 40 a visit, weekly (52 a year), ten years, telling
    25 people of whom 20% come: 2,080 a year, 20,800 in ten years, 5 more
    customers.
    """
    for name, amount in (("order_value", order_value), ("come_share", come_share)):
        if not isinstance(amount, Decimal) or not amount.is_finite() or amount < 0:
            raise ValidationError(name, amount, "must be a Decimal of at least 0")
    for name, count in (("orders_per_year", orders_per_year), ("years", years),
                        ("tells", tells)):
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValidationError(name, count, "must be a whole number of at least 0")
    per_year = order_value * orders_per_year
    over_years = per_year * years
    referred = tells * come_share
    return LifetimeValue(per_year, over_years, referred, over_years * (1 + referred))

