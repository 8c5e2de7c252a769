"""The contract every scoring strategy must meet, as a pytest test class to subclass.

Subclass :class:`ScoringContract` (in a class named ``Test...``) and provide:

``strategy`` (fixture, required)
    A :class:`~crmcore.ports.ScoringStrategy`, built the way crmcore builds it
    (the factory given its :class:`~crmcore.options.Options`).

For a strategy registered as ``"mine"``::

    class TestMine(ScoringContract):
        @pytest.fixture
        def strategy(self):
            return open_mine(Options({}, "scoring"))

The properties are checked with hypothesis on books of purchases of a few
customers over three years: a score for exactly every customer who bought
before ``as_of`` (later purchases are ignored), each a finite float, the same
twice in a row; and, when the strategy has the optional ``score_columns``
(purchases as :class:`~crmcore.grading.columns.TransactionColumns`), the
same scores from columns as from objects. Set ``max_examples`` lower on a
subclass whose strategy fits a model on each call, and ``may_refuse = True``
on one that cannot score some books (``clv`` without a repeat purchase): it
may then raise :class:`~crmcore.errors.ValidationError` for them (any other
exception still fails), and ``score_columns`` must refuse the same books.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from crmcore.errors import ValidationError
from crmcore.model import Transaction
from crmcore.ports import ScoringStrategy
from crmcore.testing.pytest_plugin import CONTRACT_MARKER

AS_OF = datetime(2026, 1, 5, tzinfo=UTC)
"""The date every contract test scores as of."""

CUSTOMER_IDS = ("C1", "C2", "C3", "C4", "C5")
"""The customers the generated purchases belong to."""


@st.composite
def purchases(draw: st.DrawFn, *, max_size: int = 40) -> list[Transaction]:
    """Purchases of :data:`CUSTOMER_IDS` from three years before :data:`AS_OF` to a month
    after it, with unique ids and amounts from 0.01 to 10 000.00."""
    count = draw(st.integers(0, max_size))
    rows = draw(st.lists(st.tuples(
        st.sampled_from(CUSTOMER_IDS),
        st.timedeltas(min_value=timedelta(days=-3 * 365), max_value=timedelta(days=30)),
        st.decimals(min_value=Decimal("0.01"), max_value=Decimal(10_000), places=2),
    ), min_size=count, max_size=count))
    return [Transaction(id=f"T{number}", customer_id=customer, occurred_at=AS_OF + offset,
                        amount=amount)
            for number, (customer, offset, amount) in enumerate(rows)]


def buyers_before(transactions: Sequence[Transaction], as_of: datetime) -> set[str]:
    """The customers with a purchase strictly before ``as_of``: those a strategy scores."""
    return {t.customer_id for t in transactions if t.occurred_at < as_of}


def _same_scores(left: Mapping[str, float], right: Mapping[str, float]) -> bool:
    """Equal keys and values equal to 1e-9 (relative), the rounding of a refit."""
    return left.keys() == right.keys() and all(
        math.isclose(left[key], right[key], rel_tol=1e-9, abs_tol=1e-12) for key in left)


_SETTINGS: dict[str, Any] = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
}


@getattr(pytest.mark, CONTRACT_MARKER)
class ScoringContract:
    """Tests every scoring strategy must pass; see the module documentation for the fixture."""

    max_examples: ClassVar[int] = 40
    """Hypothesis examples per property; lower it for a strategy that fits a model."""

    may_refuse: ClassVar[bool] = False
    """Whether the strategy may raise ValidationError for a book it cannot score."""

    def scores(self, call: Callable[[], Mapping[str, float]]) -> dict[str, float]:
        """``call()`` as a dict; a refusal (when :attr:`may_refuse`) skips the example."""
        try:
            return dict(call())
        except ValidationError:
            if not self.may_refuse:
                raise
            reject()

    def test_is_a_scoring_strategy(self, strategy: ScoringStrategy) -> None:
        """The strategy satisfies the :class:`~crmcore.ports.ScoringStrategy` protocol."""
        assert isinstance(strategy, ScoringStrategy)

    def test_no_purchases_no_scores(self, strategy: ScoringStrategy) -> None:
        """No purchase before ``as_of`` gives no score (a later one is ignored)."""
        assert dict(strategy.score([], as_of=AS_OF)) == {}
        later = Transaction(id="T1", customer_id="C1", occurred_at=AS_OF, amount=Decimal(5))
        assert dict(strategy.score([later], as_of=AS_OF)) == {}

    def test_scores_every_buyer_finite_and_deterministic(
        self, strategy: ScoringStrategy
    ) -> None:
        """One finite float per customer who bought before ``as_of``; the same when repeated."""

        @settings(max_examples=self.max_examples, **_SETTINGS)
        @given(purchases())
        def check(transactions: list[Transaction]) -> None:
            scores = self.scores(lambda: strategy.score(transactions, as_of=AS_OF))
            assert set(scores) == buyers_before(transactions, AS_OF)
            for customer_id, value in scores.items():
                assert isinstance(value, float | int), (customer_id, value)
                assert not isinstance(value, bool), (customer_id, value)
                assert math.isfinite(value), (customer_id, value)
            assert _same_scores(self.scores(lambda: strategy.score(transactions, as_of=AS_OF)),
                                scores)

        check()

    def test_later_purchases_do_not_change_scores(self, strategy: ScoringStrategy) -> None:
        """Purchases at or after ``as_of`` change no score: the strategy does not look ahead."""

        @settings(max_examples=self.max_examples, **_SETTINGS)
        @given(purchases())
        def check(transactions: list[Transaction]) -> None:
            before = [t for t in transactions if t.occurred_at < AS_OF]
            scores = self.scores(lambda: strategy.score(transactions, as_of=AS_OF))
            assert _same_scores(scores, dict(strategy.score(before, as_of=AS_OF)))

        check()

    def test_score_columns_equals_score(self, strategy: ScoringStrategy) -> None:
        """``score_columns`` (when the strategy has it) gives the scores ``score`` gives."""
        by_columns = getattr(strategy, "score_columns", None)
        if by_columns is None:
            pytest.skip("this strategy scores purchase objects only (no score_columns)")
        from crmcore.grading.columns import TransactionColumns

        @settings(max_examples=self.max_examples, **_SETTINGS)
        @given(purchases())
        def check(transactions: list[Transaction]) -> None:
            columns = TransactionColumns.from_transactions(transactions)
            try:
                scores = dict(strategy.score(transactions, as_of=AS_OF))
            except ValidationError:
                if not self.may_refuse:
                    raise
                with pytest.raises(ValidationError):
                    by_columns(columns, as_of=AS_OF)
                return
            assert _same_scores(dict(by_columns(columns, as_of=AS_OF)), scores)

        check()
