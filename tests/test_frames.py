"""crmcore.frames: grades, stages, agenda, retention, CLV and purchases to and from
pandas, polars and Arrow, on a real demo book and on hypothesis-made purchases."""

from __future__ import annotations

import contextlib
import io
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pa = pytest.importorskip("pyarrow", reason="the dataframe extra is not installed")
pd = pytest.importorskip("pandas", reason="the dataframe extra is not installed")
pl = pytest.importorskip("polars", reason="the dataframe extra is not installed")

from crmcore import CRM  # noqa: E402
from crmcore.cli import main  # noqa: E402
from crmcore.demo import DEFAULT_AS_OF  # noqa: E402
from crmcore.errors import ConfigError, ValidationError  # noqa: E402
from crmcore.frames import (  # noqa: E402
    KINDS,
    columns,
    frame_to_arrow,
    purchases_from_frame,
    to_arrow,
    to_pandas,
    to_polars,
    transactions_from_frame,
)
from crmcore.grading.columns import TransactionColumns  # noqa: E402
from crmcore.grading.results import GradeResult  # noqa: E402
from crmcore.lifecycle.measures import periods, retention  # noqa: E402
from crmcore.lifecycle.service import LifecycleService  # noqa: E402
from crmcore.model import Customer, Transaction  # noqa: E402
from crmcore.policies import PolicyService, PolicySet  # noqa: E402
from crmcore.testing import transactions as any_transaction  # noqa: E402

CONVERTERS: dict[str, Callable[..., Any]] = {
    "arrow": to_arrow, "pandas": to_pandas, "polars": to_polars}


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A demo book's records of every kind, as crmcore's services return them."""
    database = str(tmp_path_factory.mktemp("frames") / "demo.db")
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["demo", "--customers", "12", "--db", database]) == 0
    with CRM.open("sqlite", path=database) as crm:
        service = LifecycleService(crm)
        spans = periods(DEFAULT_AS_OF - timedelta(days=365), DEFAULT_AS_OF, "quarter")
        records: dict[str, Any] = {
            "grades": sorted(crm.find(GradeResult), key=lambda g: g.customer_id),
            "stages": service.stages(),
            "agenda": PolicyService(crm, PolicySet()).agenda(DEFAULT_AS_OF),
            "retention": retention(service.histories(), spans),
            "transactions": sorted(crm.find(Transaction), key=lambda t: t.id),
        }
    return records


def as_rows(frame: Any) -> list[dict[str, Any]]:
    """Any frame's rows as Python values, through Arrow."""
    return frame_to_arrow(frame).to_pylist()  # type: ignore[no-any-return]


@pytest.mark.parametrize("library", list(CONVERTERS))
@pytest.mark.parametrize("kind", ["grades", "stages", "agenda", "retention", "transactions"])
def test_records_become_one_row_each_and_come_back_alike(
        book: dict[str, Any], kind: str, library: str) -> None:
    records = book[kind]
    assert records, f"the demo book has no {kind}"
    frame = CONVERTERS[library](records)
    assert len(frame) == len(records)
    found, expected = columns(records)
    assert found == kind
    assert list(frame.columns if library != "arrow" else frame.column_names) == list(expected)
    rows = as_rows(frame)
    assert rows == [dict(zip(expected, values, strict=True))
                    for values in zip(*expected.values(), strict=True)]


def test_grade_rows_carry_each_result(book: dict[str, Any]) -> None:
    result = book["grades"][0]
    row = to_pandas(book["grades"]).iloc[0]
    assert (row["customer_id"], row["grade"], row["scheme"], row["explanation"]) == (
        result.customer_id, result.grade, result.scheme, result.explanation.code)
    assert row["as_of"] == pd.Timestamp(result.as_of)
    assert to_polars(book["grades"]).schema["as_of"] == pl.Datetime("us", "UTC")


def test_retention_rates_and_agenda_escalations(book: dict[str, Any]) -> None:
    frame = to_polars(book["retention"])
    first = book["retention"][0]
    assert frame["churn_rate"][0] == first.churn_rate
    assert frame["period"][0] == first.period.label
    agenda = to_arrow(book["agenda"])
    assert agenda.column("kind").to_pylist() == [item.kind.value for item in book["agenda"]]


def test_clv_analysis_one_row_per_customer() -> None:
    pytest.importorskip("scipy", reason="clv needs the clv extra")
    from crmcore_plugins.clv import analyse_purchases

    start = datetime(2025, 1, 1, tzinfo=UTC).date()
    ids = [f"C{n % 7}" for n in range(60)]
    dates = [start + timedelta(days=(n * 13) % 300) for n in range(60)]
    amounts = [10.0 + n % 9 for n in range(60)]
    analysis = analyse_purchases(ids, dates, amounts,
                                 calibration_end=start + timedelta(days=320))
    frame = to_pandas(analysis)
    assert list(frame["customer_id"]) == [str(c) for c in analysis.summary.customer_ids]
    assert list(frame["probability_alive"]) == pytest.approx(
        analysis.probability_alive.tolist())
    assert as_rows(to_polars(analysis)) == to_arrow(analysis).to_pylist()


def test_an_empty_sequence_needs_its_kind_and_gets_typed_columns() -> None:
    with pytest.raises(ValidationError, match="kind: None is not one of grades"):
        to_arrow([])
    table = to_arrow([], kind="agenda")
    assert table.num_rows == 0
    assert str(table.schema.field("due_at").type) == "timestamp[us, tz=UTC]"
    assert set(KINDS) == {"grades", "stages", "agenda", "retention", "clv", "transactions"}


def test_mixed_or_unknown_records_are_refused(book: dict[str, Any]) -> None:
    with pytest.raises(ValidationError, match="GradeResult, StageRow"):
        to_arrow([book["grades"][0], book["stages"][0]])
    with pytest.raises(ValidationError, match="kind: 'stages' does not match"):
        to_arrow(book["grades"], kind="stages")


# -- back from frames --------------------------------------------------------------------


SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@st.composite
def books(draw: st.DrawFn) -> list[Transaction]:
    """Purchases of a few customers with unique ids, in any time zone."""
    customers = draw(st.lists(st.sampled_from(["C1", "C2", "C3", "Zhāng"]), min_size=1,
                              max_size=12))
    return [attrs.evolve(draw(any_transaction(customer_id=customer)), id=f"T{number}")
            for number, customer in enumerate(customers)]


@pytest.mark.parametrize("library", list(CONVERTERS))
def test_transactions_round_trip_exactly(library: str) -> None:
    """Transactions to a frame and back are the same entities (amounts exact, instants kept)."""

    @SETTINGS
    @given(books())
    def check(transactions: list[Transaction]) -> None:
        frame = CONVERTERS[library](transactions)
        assert list(transactions_from_frame(frame)) == transactions

    check()


@pytest.mark.parametrize("library", list(CONVERTERS))
def test_purchases_from_a_frame_equal_the_columns_of_the_objects(library: str) -> None:
    """The fast path reads the same columns grading reads from Transaction objects."""

    @SETTINGS
    @given(books())
    def check(transactions: list[Transaction]) -> None:
        frame = CONVERTERS[library](transactions)
        got = purchases_from_frame(frame, cost="cost")
        want = TransactionColumns.from_transactions(transactions)
        assert got.ids == want.ids
        for name in ("customer", "at_us", "amount_cents", "cost_cents"):
            assert list(getattr(got, name)) == list(getattr(want, name)), name

    check()


def test_float_and_integer_amounts_are_read_to_the_cent() -> None:
    at = pd.Timestamp("2026-01-02T03:04:05", tz="Europe/Berlin")
    frame = pd.DataFrame({"who": ["A", "B", "A"], "when": [at] * 3,
                          "paid": [19.99, 0.125, -5.0], "units": [1, 2, 3]})
    purchases = purchases_from_frame(frame, customer_id="who", occurred_at="when",
                                     amount="paid")
    assert purchases.ids == ("A", "B")
    assert list(purchases.customer) == [0, 1, 0]
    assert list(purchases.amount_cents) == [1999, 12, -500]
    assert purchases.at_us[0] == int(at.timestamp()) * 1_000_000
    whole = purchases_from_frame(frame, customer_id="who", occurred_at="when", amount="units")
    assert list(whole.amount_cents) == [100, 200, 300]


@pytest.mark.parametrize(("change", "message"), [
    (lambda f: f.drop(columns="amount"), r"column: 'amount' is missing \(columns: "),
    (lambda f: f.assign(customer_id=["A", None]), r"customer_id\[1\]: is empty"),
    (lambda f: f.assign(amount=[1.0, float("nan")]), r"amount\[1\]: is empty"),
    (lambda f: f.assign(amount=[1.0, float("inf")]), r"amount\[1\]: inf is not a finite"),
    (lambda f: f.assign(occurred_at=f["occurred_at"].dt.tz_localize(None)),
     r"occurred_at: 'timestamp\[us\]' is not a timestamp with a time zone"),
    (lambda f: f.assign(amount=["1", "2"]), r"amount: '(large_)?string' is not a decimal, integer"),
])
def test_bad_frames_name_the_column_and_row(change: Callable[[Any], Any], message: str) -> None:
    frame = pd.DataFrame({"customer_id": ["A", "B"], "amount": [1.0, 2.0],
                          "occurred_at": pd.to_datetime(["2026-01-01", "2026-01-02"], utc=True)})
    with pytest.raises(ValidationError, match=message):
        purchases_from_frame(change(frame))


def test_a_bad_row_of_transactions_names_its_row() -> None:
    frame = to_polars([Transaction(id="T1", customer_id="C1", amount=Decimal("5"),
                                   occurred_at=datetime(2026, 1, 1, tzinfo=UTC))])
    bad = pl.concat([frame, frame.with_columns(id=pl.lit(" "))])
    with pytest.raises(ValidationError, match=r"^row 1: id: "):
        list(transactions_from_frame(bad))


def test_frame_transactions_import_through_the_import_path(tmp_path: Path) -> None:
    transactions = [Transaction(id=f"T{n}", customer_id="C1", amount=Decimal(n) / 4,
                                occurred_at=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=n))
                    for n in range(5)]
    with CRM.open("sqlite", path=str(tmp_path / "crm.db")) as crm:
        crm.record(Customer(id="C1", name="Acme"))
        report = crm.import_entities(transactions_from_frame(to_pandas(transactions)),
                                     source="frame")
        assert report.new["transaction"] == 5
        assert sorted(crm.find(Transaction), key=lambda t: t.id) == transactions


def test_not_a_frame_is_refused() -> None:
    with pytest.raises(ValidationError, match="frame: 'list' is not a pandas or polars"):
        purchases_from_frame([1, 2])


def test_a_missing_library_names_the_extra(monkeypatch: pytest.MonkeyPatch,
                                           book: dict[str, Any]) -> None:
    monkeypatch.setitem(sys.modules, "polars", None)
    with pytest.raises(ConfigError, match=r"DataFrames need polars: pip install "
                                          r"'crmcore\[dataframe\]'"):
        to_polars(book["stages"])
