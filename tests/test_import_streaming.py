"""Streaming CSV import: batches, all or nothing, identity from parsed values, column rules."""

from __future__ import annotations

import io
import sqlite3
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore import CRM, Customer, DuplicateError, NotFoundError, Transaction
from crmcore.batch_import import RowClashError, UnknownCustomerError
from crmcore.cli import main
from crmcore.csv_import import (
    CsvLayout,
    HeaderError,
    TransactionValues,
    amount_key,
    attribute_value,
    read_customers,
    read_transactions,
    transaction_batches,
    transaction_record,
)
from crmcore.occurrences import OccurrenceCounter
from crmcore.unit_of_work import to_record

CUSTOMERS = "id,name,phone,zip\n01234,Zhang Wei,+8613800138000,01234\nC2,Acme,12,54321\n"


def run(*argv: str) -> int:
    return main(list(argv))


def _records(database: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(database) as connection:
        return list(connection.execute(
            "SELECT kind, id, version, body FROM all_records ORDER BY 1, 2"))


def _dump(database: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(database) as connection:
        events = list(connection.execute("SELECT seq, type, body FROM outbox ORDER BY seq"))
    return [*_records(database), *events]


def _sales(rows: int, *, bad_line: int | None = None) -> str:
    lines = ["id,customer_id,date,amount"]
    for n in range(rows):
        day = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(days=n % 365)
        amount = "ten" if bad_line is not None and n + 2 == bad_line else f"{n % 997}.50"
        lines.append(f"T{n},C2,{day:%Y-%m-%d},{amount}")
    return "\n".join(lines) + "\n"


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "crm.db"
    (tmp_path / "customers.csv").write_text(CUSTOMERS)
    assert run("import", "customers", str(tmp_path / "customers.csv"), "--db", str(path)) == 0
    return path


# -- streaming, all or nothing ---------------------------------------------------------


def test_a_bad_row_after_many_stored_batches_stores_nothing(
        database: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = _dump(database)
    (tmp_path / "sales.csv").write_text(_sales(45_000, bad_line=44_000))
    assert run("import", "transactions", str(tmp_path / "sales.csv"), "--db", str(database)) == 1
    assert "line 44000, column 'amount': 'ten' is not an amount" in capsys.readouterr().err
    assert _dump(database) == before


def test_an_unknown_customer_in_a_late_batch_names_its_line_and_stores_nothing(
        database: Path) -> None:
    before = _dump(database)
    text = _sales(5_000) + "T-late,C404,2025-02-01,1.00\n"
    with CRM.open("sqlite", path=str(database)) as crm, \
            pytest.raises(UnknownCustomerError) as raised:
        crm.import_records(transaction_batches(io.StringIO(text), batch_size=700), source="x")
    assert (raised.value.line, raised.value.entity_id) == (5_002, "C404")
    assert _dump(database) == before


def test_streamed_import_counts_emits_one_event_per_kind_and_reimports_nothing(
        database: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "sales.csv").write_text(_sales(2_500))
    arguments = ("import", "transactions", str(tmp_path / "sales.csv"), "--db", str(database))
    assert run(*arguments) == 0
    assert run(*arguments) == 0
    out = capsys.readouterr().out
    assert "transaction: 2,500 rows, 2,500 new, 0 already stored" in out
    assert "transaction: 2,500 rows, 0 new, 2,500 already stored" in out
    with CRM.open("sqlite", path=str(database)) as crm:
        assert crm.count(Transaction) == 2_500
        assert crm.require(Transaction, "T7").amount == Decimal("7.50")
        events = [e.event for e in crm.events() if e.event.type == "transaction.imported"]
    assert [e.data["new"] for e in events] == [2_500, 0]


def test_progress_is_told_the_rows_read_after_each_batch() -> None:
    counts: list[int] = []
    batches = list(transaction_batches(io.StringIO(_sales(5)), progress=counts.append,
                                       batch_size=2))
    assert [len(b.records) for b in batches] == [2, 2, 1]
    assert counts == [2, 4, 5]


def test_create_customers_adds_each_unknown_customer_once(tmp_path: Path) -> None:
    text = "customer_id,date,amount\nN1,2025-01-01,10\nN1,2025-01-02,10\nN2,2025-01-03,1\n"
    with CRM.open("sqlite", path=str(tmp_path / "crm.db")) as crm:
        report = crm.import_records(transaction_batches(io.StringIO(text), batch_size=1),
                                    source="x", create_customers=True)
        assert (report.rows["customer"], report.new["customer"]) == (2, 2)
        assert crm.require(Customer, "N2").name == "N2"


def test_a_stream_of_entities_needs_each_customer_before_its_rows(tmp_path: Path) -> None:
    sale = Transaction(id="T1", customer_id="C1", occurred_at=datetime(2025, 1, 1, tzinfo=UTC),
                       amount=Decimal(5))
    with CRM.open("sqlite", path=str(tmp_path / "crm.db")) as crm:
        with pytest.raises(NotFoundError, match="customer 'C1' does not exist"):
            crm.import_entities([sale, Customer(id="C1", name="Late")], source="x")
        assert crm.count(Customer) == 0
        report = crm.import_entities([Customer(id="C1", name="First"), sale], source="x",
                                     batch_size=1)
        assert report.new == Counter({"customer": 1, "transaction": 1})


def test_record_many_still_emits_one_recorded_event_per_new_entity(tmp_path: Path) -> None:
    with CRM.open("sqlite", path=str(tmp_path / "crm.db")) as crm:
        assert crm.record_many([Customer(id="C1", name="A"), Customer(id="C2", name="B")]) == 2
        assert crm.record_many([Customer(id="C1", name="A")]) == 0
        assert [e.event.subject for e in crm.events()] == ["customer:C1", "customer:C2"]


# -- the fast path equals the object path --------------------------------------------------

_ids = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9 _.-]{0,20}", fullmatch=True).map(str.strip).filter(
    bool)
_money = st.decimals(min_value=0, max_value=10**9, allow_nan=False, allow_infinity=False,
                     places=None).filter(lambda d: d.is_finite())


@given(id=_ids, customer_id=_ids,
       occurred_at=st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1),
                                timezones=st.just(UTC)),
       amount=_money, quantity=st.integers(min_value=0, max_value=10**6),
       cost=st.none() | _money)
def test_fast_path_record_equals_the_record_of_the_transaction(
        id: str, customer_id: str, occurred_at: datetime, amount: Decimal, quantity: int,
        cost: Decimal | None) -> None:
    values = TransactionValues(2, id, customer_id, occurred_at, amount, quantity, cost)
    assert transaction_record(values) == to_record(values.entity())
    assert transaction_record(values, occurred_at.isoformat()) == to_record(values.entity())


def test_fast_path_reads_the_same_transactions_as_the_object_path() -> None:
    text = ("customer_id,date,amount,quantity,cost\nC2,2025-01-01,1200,2,\n"
            "C2,2025-01-01T10:00:00+08:00,\"1,200.50\",,3.5\nC2,2025-01-01,1200,2,\n")
    records = [r for b in transaction_batches(io.StringIO(text)) for r in b.records]
    assert records == [to_record(t) for t in read_transactions(io.StringIO(text))]
    assert len({r.id for r in records}) == 3


# -- identity of rows without an id ------------------------------------------------------------

_SAVED = "customer_id,date,amount\n01234,2026-03-01,1200.00\n01234,2026-03-01,1200.00\n" \
         "C2,2026-03-02,99.90\n"
_RESAVED = "customer_id,date,amount\n01234,2026/3/1,1200\nC2,2026/3/2,99.9\n" \
           "01234,2026/3/1,1200.0\n"


def test_a_spreadsheet_resave_of_the_same_purchases_is_not_new(database: Path,
                                                                 tmp_path: Path) -> None:
    (tmp_path / "saved.csv").write_text(_SAVED)
    (tmp_path / "resaved.csv").write_text(_RESAVED)
    assert run("import", "transactions", str(tmp_path / "saved.csv"), "--db",
               str(database)) == 0
    before = _records(database)
    assert run("import", "transactions", str(tmp_path / "resaved.csv"), "--db", str(database),
               "--date-format", "%Y/%m/%d") == 0
    with CRM.open("sqlite", path=str(database)) as crm:
        sales = crm.find(Transaction)
        imported = [e.event.data for e in crm.events() if e.event.type == "transaction.imported"]
    assert len(sales) == 3  # the two identical purchases stay two, and nothing is new
    assert imported[-1] == {"source": str(tmp_path / "resaved.csv"), "rows": 3, "new": 0}
    assert _records(database) == before
    assert {s.customer_id for s in sales} == {"01234", "C2"}


@given(st.decimals(min_value=0, max_value=10**12, places=2), st.integers(0, 4))
def test_amount_key_ignores_trailing_zeros(amount: Decimal, extra: int) -> None:
    padded = Decimal(f"{amount:.{2 + extra}f}")
    assert amount_key(padded) == amount_key(amount) == f"{amount:.2f}"


@given(st.decimals(min_value=0, max_value=10**9, allow_nan=False, allow_infinity=False),
       st.decimals(min_value=0, max_value=10**9, allow_nan=False, allow_infinity=False))
def test_amount_key_tells_different_amounts_apart(first: Decimal, second: Decimal) -> None:
    assert (amount_key(first) == amount_key(second)) == (first == second)


def test_an_explicit_id_with_equal_content_is_the_same_row_other_content_a_clash(
        database: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a.csv").write_text("id,customer_id,date,amount\nT1,C2,2026-03-01,1200\n")
    (tmp_path / "b.csv").write_text("id,customer_id,date,amount\nT1,C2,2026-03-01,1200.00\n")
    (tmp_path / "c.csv").write_text("id,customer_id,date,amount\nT1,C2,2026-03-01,1300\n")
    for name in ("a.csv", "b.csv"):
        assert run("import", "transactions", str(tmp_path / name), "--db", str(database)) == 0
    assert "transaction: 1 rows, 0 new, 1 already stored" in capsys.readouterr().out
    before = _dump(database)
    assert run("import", "transactions", str(tmp_path / "c.csv"), "--db", str(database)) == 1
    assert "line 2: transaction 'T1' already exists with different content" in \
        capsys.readouterr().err
    assert _dump(database) == before
    with CRM.open("sqlite", path=str(database)) as crm, pytest.raises(DuplicateError) as raised:
        crm.import_records(transaction_batches(io.StringIO(
            "id,customer_id,date,amount\nT1,C2,2026-03-01,1300\n")), source="c")
    assert isinstance(raised.value, RowClashError)
    assert (raised.value.kind, raised.value.entity_id) == ("transaction", "T1")


def test_one_id_twice_in_one_file_with_other_content_is_a_clash(database: Path) -> None:
    text = "id,customer_id,date,amount\nT1,C2,2026-03-01,5\nT1,C2,2026-03-01,5.00\n" \
           "T1,C2,2026-03-01,6\n"
    with CRM.open("sqlite", path=str(database)) as crm, pytest.raises(RowClashError) as raised:
        crm.import_records(transaction_batches(io.StringIO(text)), source="x")
    assert raised.value.line == 4


# -- column rules --------------------------------------------------------------------------------


@pytest.mark.parametrize(("option", "name"), [("--id-col", "ordr_no"),
                                              ("--quantity-col", "qty"),
                                              ("--cost-col", "cogs"), ("--id-col", "id")])
def test_a_column_option_naming_a_missing_column_names_option_and_columns(
        database: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str,
        name: str) -> None:
    (tmp_path / "sales.csv").write_text("customer_id,date,amount\nC2,2026-03-01,5\n")
    before = _dump(database)
    assert run("import", "transactions", str(tmp_path / "sales.csv"), "--db", str(database),
               option, name) == 1
    err = capsys.readouterr().err
    assert f"line 1: the column {name!r} is missing from the header " \
           "(columns: customer_id, date, amount)" in err
    assert "None" not in err
    assert f"named by {option}" in err
    assert _dump(database) == before


def test_a_header_naming_two_columns_alike_is_refused_with_both_positions() -> None:
    with pytest.raises(HeaderError, match=r"line 1: the header names two columns 'amount' "
                                          r"\(columns 3 and 4\); rename one"):
        list(read_transactions(io.StringIO("customer_id,date,amount,amount\nC1,2026-03-01,5,6\n")))


def test_default_optional_columns_may_be_absent() -> None:
    [sale] = read_transactions(io.StringIO("customer_id,date,amount\nC1,2026-03-01,5\n"))
    assert (sale.quantity, sale.cost, sale.id.startswith("t-")) == (1, None, True)


def test_text_cells_keep_their_form_unless_declared_numeric(database: Path) -> None:
    with CRM.open("sqlite", path=str(database)) as crm:
        zhang = crm.require(Customer, "01234")
        acme = crm.require(Customer, "C2")
    assert zhang.attributes == {"phone": "+8613800138000", "zip": "01234"}
    assert acme.attributes == {"phone": 12, "zip": 54321}
    layout = CsvLayout(numeric_columns={"zip"}, text_columns={"phone"})
    [zhang, acme] = read_customers(io.StringIO(CUSTOMERS), layout)
    assert zhang.attributes == {"phone": "+8613800138000", "zip": 1234}
    assert acme.attributes == {"phone": "12", "zip": 54321}


@pytest.mark.parametrize(("text", "value"), [
    ("1200", 1200), ("-3", -3), ("0.5", 0.5), ("0", 0), ("01234", "01234"),
    ("+8613800138000", "+8613800138000"), ("1e5", "1e5"), ("1_000", "1_000"),
    ("12.", "12."), ("nan", "nan"), ("retail", "retail"),
])
def test_attribute_cells_are_numbers_only_when_written_as_plain_numbers(
        text: str, value: object) -> None:
    assert attribute_value(text) == value
    assert type(attribute_value(text)) is type(value)


def test_a_declared_numeric_column_refuses_text_with_line_and_column() -> None:
    with pytest.raises(Exception, match=r"line 3, column 'zip': 'n/a' is not a number"):
        list(read_customers(io.StringIO("id,name,zip\nC1,A,01\nC2,B,n/a\n"),
                            CsvLayout(numeric_columns={"zip"})))


def test_a_declared_column_the_file_lacks_is_refused() -> None:
    with pytest.raises(HeaderError,
                       match="line 1: the column 'segment' is missing from the header"):
        list(read_customers(io.StringIO("id,name\nC1,A\n"), CsvLayout(text_columns={"segment"})))


# -- occurrence numbers with bounded memory ------------------------------------------------------


_KEYS = st.one_of(st.integers(-3, 3), st.integers(-(2**63), 2**63 - 1))


@pytest.mark.parametrize("fast", [False, None])
@given(st.lists(st.lists(_KEYS, max_size=12), max_size=8), st.integers(1, 5),
       st.integers(0, 12))
def test_occurrence_numbers_equal_a_plain_count_whatever_spills(
        fast: bool | None, batches: list[list[int]], memory_keys: int,
        frozen_keys: int) -> None:
    """The reference (set, then file) and the sorted array (then file) count alike."""
    seen: Counter[int] = Counter()
    with OccurrenceCounter(memory_keys=memory_keys, frozen_keys=frozen_keys,
                           fast=fast) as counter:
        for batch in batches:
            expected = []
            for key in batch:
                seen[key] += 1
                expected.append(seen[key])
            assert counter.number(batch) == expected


def test_keys_beyond_memory_go_to_the_sorted_array_not_a_file() -> None:
    pytest.importorskip("numpy")
    with OccurrenceCounter(memory_keys=2) as counter:
        assert counter.number([5, 6, 7]) == [1, 1, 1]
        assert counter.number([8, 6, 6, 9]) == [1, 2, 3, 1]
        assert counter._path is None
        assert counter._frozen is not None
        assert counter._frozen.tolist() == [5, 6, 7, 8, 9]
        assert counter.number([9, 5, 10]) == [2, 2, 1]


def test_the_spill_file_is_removed_on_close() -> None:
    counter = OccurrenceCounter(memory_keys=2, fast=False)
    counter.number([1, 2, 3, 4])
    path = counter._path
    assert path is not None
    assert Path(path).exists()
    counter.close()
    assert not Path(path).exists()
