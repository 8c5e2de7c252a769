"""G7 customer value: delivered value and the catalogue's lifetime-value example."""

from __future__ import annotations

from decimal import Decimal

import pytest

from crmcore.errors import ValidationError
from crmcore.grading import DeliveredValue, simple_lifetime_value


def test_g7_delivered_value_is_total_value_minus_total_cost() -> None:
    value = DeliveredValue(product=Decimal(100), service=Decimal(30), personnel=Decimal(10),
                           image=Decimal(5), money=Decimal(80), time=Decimal(10),
                           energy=Decimal(5))
    assert (value.total_value, value.total_cost, value.delivered) == (145, 95, 50)
    with pytest.raises(ValidationError, match="money"):
        DeliveredValue(money=Decimal(-1))


def test_g7_lifetime_value_example_of_the_catalogue() -> None:
    result = simple_lifetime_value(Decimal(40), 52, 10, tells=25, come_share=Decimal("0.2"))
    assert result.per_year == 2080
    assert result.over_years == 20800
    assert result.referred_customers == 5
    assert result.with_referrals == 20800 * 6
    with pytest.raises(ValidationError, match="years"):
        simple_lifetime_value(Decimal(40), 52, -1)
