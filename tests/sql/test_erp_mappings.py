"""Reading customers and sales straight from Odoo- and ERPNext-shaped tables.

The tables are created in the test PostgreSQL with the columns the real ERPs
use, filled with rows that the shipped mappings must keep and rows their
filters must drop (vendors, archived partners, drafts, cancelled orders,
returns, disabled customers, documents of unknown parties). The expectations
are written out by hand.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import attrs
import pytest
import sqlalchemy as sa

from crmcore import ConfigError, PartyKind, ValidationError
from crmcore_plugins.erp import Condition, ErpMapping, ErpSource, load_mapping, parse_mapping

KOLKATA = ZoneInfo("Asia/Kolkata")

# id, name, is_company, customer_rank, email, phone, tz, lang, create_date, active
ODOO_PARTNERS = [
    (1, "Azure Interior", True, 3, "azure.interior24@example.com", "(870)-931-0505",
     "America/New_York", "en_US", datetime(2023, 1, 10, 8, 0), True),
    (2, "Brandon Freeman", False, 1, "brandon.freeman55@example.com", "(355)-687-3262",
     "Europe/Brussels", "fr_BE", datetime(2023, 2, 11, 9, 30), True),
    (3, "Deco Addict", True, 5, "deco.addict82@example.com", "(603)-996-3829",
     "Europe/Paris", "fr_FR", datetime(2023, 3, 5, 14, 15), True),
    (4, "Gemini Furniture", True, 0, "gemini.furniture39@example.com", "(941)-284-4875",
     "America/Chicago", "en_US", datetime(2023, 3, 20, 10, 0), True),        # a vendor
    (5, "Lumber Inc", True, 2, "lumber-inv92@example.com", "(828)-316-0593",
     "America/Denver", "en_US", datetime(2022, 11, 2, 16, 45), False),       # archived
    (6, "Ready Mat", True, 1, "ready.mat28@example.com", "(803)-873-6126",
     "Mars/Base", "sr@latin", datetime(2023, 4, 1, 7, 20), True),            # unusable tz
    (7, "Wood Corner", True, 0, "wood.corner26@example.com", "(623)-853-7197",
     "America/Los_Angeles", "en_US", datetime(2023, 4, 18, 12, 0), True),    # a vendor
    (8, "Zhang Wei 张伟", False, 2, "zhang.wei@example.cn", "+86 10 5555 0188",
     "Asia/Shanghai", "zh_CN", datetime(2023, 5, 9, 2, 30), True),
    (9, "Jackson Group", True, 1, None, None, None, None, datetime(2023, 6, 21, 11, 11, 11), True),
    (10, "Anita Oliver", False, 0, "anita.oliver32@example.com", "(538)-497-4804",
     "Europe/Brussels", "en_US", datetime(2023, 6, 30, 13, 0), True),       # a contact only
    (11, "Colleen Diaz", False, 4, "colleen.diaz83@example.com", "(255)-595-8393",
     "America/New_York", "en_US", datetime(2023, 7, 14, 15, 40), True),
    (12, "Old Customer SA", True, 3, "old@example.com", None, "Europe/Madrid", "es_ES",
     datetime(2021, 1, 1, 0, 0), False),                                     # archived
]

ODOO_ORDERS = [  # id, name, partner_id, date_order (UTC), amount_total, amount_untaxed, state
    (1, "S00001", 1, datetime(2024, 1, 3, 9, 0), "1150.00", "1000.00", "sale"),
    (2, "S00002", 1, datetime(2024, 1, 17, 14, 30), "460.00", "400.00", "done"),
    (3, "S00003", 1, datetime(2024, 2, 2, 10, 0), "230.00", "200.00", "draft"),
    (4, "S00004", 2, datetime(2024, 1, 5, 11, 0), "57.50", "50.00", "sale"),
    (5, "S00005", 2, datetime(2024, 2, 29, 23, 59, 59), "115.00", "100.00", "sale"),
    (6, "S00006", 2, datetime(2024, 3, 1, 0, 0), "345.00", "300.00", "cancel"),
    (7, "S00007", 3, datetime(2024, 1, 9, 8, 15), "2875.00", "2500.00", "done"),
    (8, "S00008", 3, datetime(2024, 2, 14, 16, 0), "690.00", "600.00", "sale"),
    (9, "S00009", 3, datetime(2024, 3, 1, 0, 0), "920.00", "800.00", "sale"),
    (10, "S00010", 3, datetime(2024, 3, 15, 12, 0), "115.00", "100.00", "sent"),
    (11, "S00011", 4, datetime(2024, 1, 20, 10, 0), "5750.00", "5000.00", "sale"),
    (12, "S00012", 5, datetime(2024, 1, 22, 10, 0), "1380.00", "1200.00", "done"),
    (13, "S00013", 6, datetime(2024, 2, 5, 9, 45), "299.99", "260.86", "sale"),
    (14, "S00014", 6, datetime(2024, 2, 6, 9, 45), "299.99", "260.86", "cancel"),
    (15, "S00015", 7, datetime(2024, 2, 10, 10, 0), "800.00", "695.65", "sale"),
    (16, "S00016", 8, datetime(2024, 1, 31, 16, 0), "1888.00", "1641.74", "sale"),
    (17, "S00017", 8, datetime(2024, 2, 29, 15, 59, 59, 999999), "88.80", "77.22", "done"),
    (18, "S00018", 8, datetime(2024, 3, 2, 3, 0), "18.80", "16.35", "draft"),
    (19, "S00019", 9, datetime(2024, 1, 12, 13, 13, 13), "999.00", "868.70", "sale"),
    (20, "S00020", 9, datetime(2024, 1, 12, 13, 13, 13), "111.00", "96.52", "sale"),
    (21, "S00021", 10, datetime(2024, 2, 20, 10, 0), "230.00", "200.00", "sale"),
    (22, "S00022", 11, datetime(2024, 1, 25, 17, 20), "402.50", "350.00", "sale"),
    (23, "S00023", 11, datetime(2024, 2, 26, 17, 20), "402.50", "350.00", "done"),
    (24, "S00024", 11, datetime(2024, 3, 26, 17, 20), "402.50", "350.00", "cancel"),
    (25, "S00025", 12, datetime(2024, 1, 30, 9, 0), "3450.00", "3000.00", "done"),
    (26, "S00026", 1, datetime(2024, 3, 10, 10, 0), "0.00", "0.00", "sale"),
    (27, "S00027", 2, datetime(2024, 3, 20, 8, 0), None, None, "draft"),   # an empty draft
    (28, "S00028", 3, datetime(2023, 12, 31, 23, 0), "575.00", "500.00", "done"),
    (29, "S00029", 6, datetime(2024, 3, 31, 22, 0), "149.50", "130.00", "sale"),
    (30, "S00030", 11, datetime(2024, 2, 10, 0, 0), "80.50", "70.00", "sent"),
]

ERPNEXT_CUSTOMERS = [  # name, customer_name, customer_type, territory, creation (site), disabled
    ("Grant Plastics Ltd.", "Grant Plastics Ltd.", "Company", "India",
     datetime(2023, 4, 1, 10, 0), 0),
    ("Palmer Productions", "Palmer Productions Ltd.", "Company", "United States",
     datetime(2023, 4, 2, 11, 30), 0),
    ("West View Software", "West View Software Ltd.", "Company", "India",
     datetime(2023, 5, 15, 9, 0), 1),
    ("Aarav Sharma", "Aarav Sharma", "Individual", "India", datetime(2023, 6, 1, 0, 15), 0),
    ("Meera Iyer", "Meera Iyer", "Individual", "Rest Of The World",
     datetime(2023, 6, 10, 18, 45), 0),
    ("Nordic Traders AB", "Nordic Traders AB", "Company", "Sweden",
     datetime(2023, 7, 7, 7, 7, 7), 0),
    ("Closed Account", "Closed Account Pvt", "Company", "India", datetime(2022, 1, 1), 1),
    ("Walk-in Customer", "Walk-in Customer", "Individual", "India", datetime(2023, 1, 1), 0),
]

ERPNEXT_INVOICES = [  # name, customer, posting_date, grand_total, docstatus, is_return
    ("ACC-SINV-2024-00001", "Grant Plastics Ltd.", date(2024, 1, 2), "11800", 1, 0),
    ("ACC-SINV-2024-00002", "Grant Plastics Ltd.", date(2024, 1, 15), "5900", 2, 0),
    ("ACC-SINV-2024-00003", "Grant Plastics Ltd.", date(2024, 1, 15), "5900", 1, 0),
    ("ACC-SINV-2024-00004", "Palmer Productions", date(2024, 1, 20), "2500", 1, 0),
    ("ACC-SINV-2024-00005", "Palmer Productions", date(2024, 1, 25), "-500", 1, 1),
    ("ACC-SINV-2024-00006", "West View Software", date(2024, 2, 1), "7080", 1, 0),
    ("ACC-SINV-2024-00007", "Aarav Sharma", date(2024, 2, 1), "472", 1, 0),
    ("ACC-SINV-2024-00008", "Aarav Sharma", date(2024, 2, 29), "236", 0, 0),
    ("ACC-SINV-2024-00009", "Meera Iyer", date(2024, 2, 29), "1180", 1, 0),
    ("ACC-SINV-2024-00010", "Meera Iyer", date(2024, 3, 1), "118", 1, 0),
    ("ACC-SINV-2024-00011", "Nordic Traders AB", date(2024, 3, 5), "35400", 1, 0),
    ("ACC-SINV-2024-00012", "Closed Account", date(2024, 3, 6), "1000", 1, 0),
    ("ACC-SINV-2024-00013", "Walk-in Customer", date(2024, 3, 7), "59", 1, 0),
    ("ACC-SINV-2024-00014", "Walk-in Customer", date(2024, 3, 7), "-59", 1, 1),
    ("ACC-SINV-2024-00015", "Nordic Traders AB", date(2024, 3, 31), "1770", 1, 0),
    ("ACC-SINV-2024-00016", "Unknown Party", date(2024, 3, 8), "100", 1, 0),
]


def _odoo_tables(metadata: sa.MetaData) -> tuple[sa.Table, sa.Table]:
    partner = sa.Table(
        "res_partner", metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String), sa.Column("is_company", sa.Boolean),
        sa.Column("customer_rank", sa.Integer), sa.Column("email", sa.String),
        sa.Column("phone", sa.String), sa.Column("tz", sa.String), sa.Column("lang", sa.String),
        sa.Column("create_date", sa.DateTime), sa.Column("active", sa.Boolean),
    )
    order = sa.Table(
        "sale_order", metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("partner_id", sa.Integer, sa.ForeignKey(partner.c.id), nullable=False),
        sa.Column("date_order", sa.DateTime, nullable=False),
        sa.Column("amount_total", sa.Numeric(12, 2)),
        sa.Column("amount_untaxed", sa.Numeric(12, 2)),
        sa.Column("state", sa.String),
    )
    return partner, order


def _erpnext_tables(metadata: sa.MetaData) -> tuple[sa.Table, sa.Table]:
    customer = sa.Table(
        "tabCustomer", metadata,
        sa.Column("name", sa.String(140), primary_key=True),
        sa.Column("customer_name", sa.String(140)), sa.Column("customer_type", sa.String(140)),
        sa.Column("territory", sa.String(140)), sa.Column("creation", sa.DateTime),
        sa.Column("disabled", sa.SmallInteger, nullable=False),
    )
    invoice = sa.Table(
        "tabSales Invoice", metadata,
        sa.Column("name", sa.String(140), primary_key=True),
        sa.Column("customer", sa.String(140)), sa.Column("posting_date", sa.Date),
        sa.Column("grand_total", sa.Numeric(21, 9)),
        sa.Column("docstatus", sa.SmallInteger, nullable=False),
        sa.Column("is_return", sa.SmallInteger, nullable=False),
    )
    return customer, invoice


def _rows(table: sa.Table, rows: Sequence[tuple[object, ...]]) -> list[dict[str, object]]:
    return [dict(zip(table.c.keys(), row, strict=True)) for row in rows]


@pytest.fixture(scope="module")
def erp_schemas(postgres_engine: sa.Engine) -> Iterator[tuple[str, str]]:
    """``(odoo schema, erpnext schema)`` created and filled once for this module."""
    odoo, erpnext = f"odoo_{uuid.uuid4().hex[:8]}", f"erpnext_{uuid.uuid4().hex[:8]}"
    with postgres_engine.begin() as connection:
        for schema in (odoo, erpnext):
            connection.execute(sa.schema.CreateSchema(schema))
        odoo_metadata, erpnext_metadata = sa.MetaData(schema=odoo), sa.MetaData(schema=erpnext)
        partner, order = _odoo_tables(odoo_metadata)
        customer, invoice = _erpnext_tables(erpnext_metadata)
        odoo_metadata.create_all(connection)
        erpnext_metadata.create_all(connection)
        connection.execute(sa.insert(partner), _rows(partner, ODOO_PARTNERS))
        connection.execute(sa.insert(order), _rows(order, ODOO_ORDERS))
        connection.execute(sa.insert(customer), _rows(customer, ERPNEXT_CUSTOMERS))
        connection.execute(sa.insert(invoice), _rows(invoice, ERPNEXT_INVOICES))
    yield odoo, erpnext
    with postgres_engine.begin() as connection:
        for schema in (odoo, erpnext):
            connection.execute(sa.schema.DropSchema(schema, cascade=True))


def _rows_only(name: str) -> ErpMapping:
    """A shipped mapping without its [purchases] rules: these tables hold only what its
    [customers] and [transactions] read (the rules are tested in tests/pushdown)."""
    return attrs.evolve(load_mapping(name), purchases=None)


@pytest.fixture
def odoo(postgres_url: str, erp_schemas: tuple[str, str]) -> Iterator[ErpSource]:
    with ErpSource(_rows_only("odoo"), postgres_url, schema=erp_schemas[0]) as source:
        yield source


@pytest.fixture
def erpnext(postgres_url: str, erp_schemas: tuple[str, str]) -> Iterator[ErpSource]:
    with ErpSource(_rows_only("erpnext"), postgres_url, schema=erp_schemas[1],
                   time_zone="Asia/Kolkata") as source:
        yield source


def _utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def _totals(source: ErpSource) -> dict[str, tuple[int, Decimal]]:
    found: dict[str, list[Decimal]] = defaultdict(list)
    for transaction in source.transactions():
        found[transaction.customer_id].append(transaction.amount)
    return {customer: (len(amounts), sum(amounts, Decimal(0)))
            for customer, amounts in found.items()}


# -- Odoo ------------------------------------------------------------------------------------


def test_odoo_customers_are_ranked_active_partners(odoo: ErpSource) -> None:
    customers = list(odoo.customers())
    assert [c.id for c in customers] == ["1", "2", "3", "6", "8", "9", "11"]
    assert [c.kind for c in customers] == [
        PartyKind.ORGANISATION, PartyKind.PERSON, PartyKind.ORGANISATION,
        PartyKind.ORGANISATION, PartyKind.PERSON, PartyKind.ORGANISATION, PartyKind.PERSON]
    assert [c.preferences.language for c in customers] == [
        "en-US", "fr-BE", "fr-FR", "sr", "zh-CN", None, "en-US"]
    assert [c.preferences.time_zone for c in customers] == [
        "America/New_York", "Europe/Brussels", "Europe/Paris", None, "Asia/Shanghai", None,
        "America/New_York"]
    zhang = customers[4]
    assert zhang.name == "Zhang Wei 张伟"
    assert zhang.acquired_at == _utc(2023, 5, 9, 2, 30)
    assert zhang.attributes == {"email": "zhang.wei@example.cn", "phone": "+86 10 5555 0188"}
    assert customers[5].attributes == {}


def test_odoo_transactions_are_confirmed_orders_of_those_customers(odoo: ErpSource) -> None:
    transactions = list(odoo.transactions())
    assert [t.id for t in transactions] == [
        "28", "1", "4", "7", "19", "20", "2", "22", "16", "13", "8", "23", "17", "5", "9",
        "26", "29"]
    assert _totals(odoo) == {
        "1": (3, Decimal("1610.00")), "2": (2, Decimal("172.50")),
        "3": (4, Decimal("5060.00")), "6": (2, Decimal("449.49")),
        "8": (2, Decimal("1976.80")), "9": (2, Decimal("1110.00")),
        "11": (2, Decimal("805.00")),
    }
    first = transactions[0]
    assert (first.customer_id, first.occurred_at, first.amount, first.reference) == (
        "3", _utc(2023, 12, 31, 23, 0), Decimal("575.00"), "S00028")


def test_odoo_time_window_is_since_inclusive_until_exclusive(odoo: ErpSource) -> None:
    february = odoo.transactions(since=_utc(2024, 2, 1), until=_utc(2024, 3, 1))
    assert [t.id for t in february] == ["13", "8", "23", "17", "5"]
    shanghai = ZoneInfo("Asia/Shanghai")
    local_february = odoo.transactions(since=datetime(2024, 2, 1, tzinfo=shanghai),
                                       until=datetime(2024, 3, 1, tzinfo=shanghai))
    assert [t.id for t in local_february] == ["16", "13", "8", "23", "17"]


def test_columns_match_the_entities(odoo: ErpSource) -> None:
    columns = odoo.transaction_columns(since=_utc(2024, 1, 1))
    entities = list(odoo.transactions(since=_utc(2024, 1, 1)))
    assert columns.ids == [t.id for t in entities]
    assert columns.customer_ids == [t.customer_id for t in entities]
    assert columns.occurred_at == [t.occurred_at for t in entities]
    assert columns.amounts == [t.amount for t in entities]


def test_invalid_rows_raise_naming_table_row_and_column(
    postgres_url: str, erp_schemas: tuple[str, str]
) -> None:
    mapping = _rows_only("odoo")
    drafts = attrs.evolve(mapping, transactions=attrs.evolve(
        mapping.transactions,
        where=(Condition("state", "=", "draft", "transactions.where[0]"),)))
    with ErpSource(drafts, postgres_url, schema=erp_schemas[0]) as source, \
            pytest.raises(ValidationError, match=r"sale_order\[27\]\.amount_total: None is empty"):
        list(source.transactions())
    skipping = attrs.evolve(drafts, invalid_rows="skip")
    with ErpSource(skipping, postgres_url, schema=erp_schemas[0]) as source:
        assert [t.id for t in source.transactions()] == ["3", "18"]


def test_reading_writes_nothing(
    odoo: ErpSource, postgres_engine: sa.Engine, erp_schemas: tuple[str, str]
) -> None:
    list(odoo.customers())
    list(odoo.transactions())
    assert sorted(sa.inspect(postgres_engine).get_table_names(schema=erp_schemas[0])) == [
        "res_partner", "sale_order"]


# -- ERPNext ----------------------------------------------------------------------------------


def test_erpnext_customers_are_enabled_customers(erpnext: ErpSource) -> None:
    customers = list(erpnext.customers())
    assert [c.id for c in customers] == [
        "Aarav Sharma", "Grant Plastics Ltd.", "Meera Iyer", "Nordic Traders AB",
        "Palmer Productions", "Walk-in Customer"]
    assert [c.kind for c in customers] == [
        PartyKind.PERSON, PartyKind.ORGANISATION, PartyKind.PERSON, PartyKind.ORGANISATION,
        PartyKind.ORGANISATION, PartyKind.PERSON]
    palmer = customers[4]
    assert palmer.name == "Palmer Productions Ltd."
    assert palmer.attributes == {"territory": "United States", "customer_type": "Company"}
    # created at 00:15 site time (IST, +05:30): the evening before in UTC
    assert customers[0].acquired_at == _utc(2023, 5, 31, 18, 45)


def test_erpnext_transactions_are_submitted_invoices_not_returns(erpnext: ErpSource) -> None:
    transactions = list(erpnext.transactions())
    assert [t.id[-5:] for t in transactions] == [
        "00001", "00003", "00004", "00007", "00009", "00010", "00011", "00013", "00015"]
    assert transactions[3].occurred_at == _utc(2024, 1, 31, 18, 30)  # 1 Feb, midnight IST
    assert _totals(erpnext) == {
        "Grant Plastics Ltd.": (2, Decimal(17700)), "Palmer Productions": (1, Decimal(2500)),
        "Aarav Sharma": (1, Decimal(472)), "Meera Iyer": (2, Decimal(1298)),
        "Nordic Traders AB": (2, Decimal(37170)), "Walk-in Customer": (1, Decimal(59)),
    }


def test_erpnext_dates_are_placed_in_the_site_time_zone(erpnext: ErpSource) -> None:
    site = erpnext.transactions(since=datetime(2024, 2, 1, tzinfo=KOLKATA),
                                until=datetime(2024, 3, 1, tzinfo=KOLKATA))
    assert [t.id[-5:] for t in site] == ["00007", "00009"]
    utc = erpnext.transactions(since=_utc(2024, 2, 1), until=_utc(2024, 3, 1))
    assert [t.id[-5:] for t in utc] == ["00009", "00010"]


def test_names_with_spaces_are_quoted(erpnext: ErpSource) -> None:
    sql = str(erpnext.transactions_query().compile(erpnext.engine))
    assert '."tabSales Invoice"' in sql
    assert '"tabCustomer"' in sql


# -- configuration errors -----------------------------------------------------------------------

VALID = """
name = "tiny"
[customers]
table = "res_partner"
where = [{ column = "customer_rank", op = ">", value = 0 }]
[customers.columns]
id = "id"
name = "name"
[transactions]
table = "sale_order"
where = [{ column = "state", op = "in", value = ["sale", "done"] }]
[transactions.columns]
id = "id"
customer_id = "partner_id"
occurred_at = "date_order"
amount = "amount_total"
"""


def test_the_minimal_mapping_is_valid() -> None:
    mapping = parse_mapping(VALID)
    assert (mapping.name, mapping.customers.table, mapping.time_zone) == (
        "tiny", "res_partner", "UTC")
    assert mapping.transactions.where[0].value == ("sale", "done")


@pytest.mark.parametrize(("old", "new", "message"), [
    ('table = "res_partner"\n', "", "customers.table: is required"),
    ('name = "name"\n', "", "customers.columns.name: is required"),
    ('name = "name"\n', 'name = "name"\nemail = "email"\n',
     "customers.columns.email: is not a known field"),
    ('amount = "amount_total"', "amount = 3", "transactions.columns.amount: 3 is not a column"),
    ('op = ">"', 'op = "like"', "customers.where[0].op: 'like' is not one of"),
    ('value = ["sale", "done"]', 'value = "sale"',
     "transactions.where[0].value: 'sale' is not a non-empty list"),
    ("value = 0 }", "value = 0, extra = 1 }", "customers.where[0].extra: is not a known key"),
    ('op = ">", value = 0', 'op = "is null", value = 0',
     "customers.where[0].value: 'is null' takes no value"),
    ('op = ">", value = 0', 'op = ">"', "customers.where[0].value: is required"),
    ('where = [{ column = "customer_rank"', 'where = [{ colum = "customer_rank"',
     "customers.where[0].column: is required"),
    ('name = "tiny"', 'name = "tiny"\ntime_zone = "Mars/Base"',
     "time_zone: 'Mars/Base' is not a time zone"),
    ('name = "tiny"', 'name = "tiny"\ninvalid_rows = "ignore"',
     "invalid_rows: 'ignore' is not one of raise, skip"),
    ('name = "tiny"', 'name = "tiny"\ncolour = "blue"', "colour: is not a known option"),
    ('[transactions]\n', '[transactions]\norganisation_when = []\n',
     "transactions.organisation_when: is only known for customers"),
    ('[transactions]\n', '[transactions]\nrequire_customer = "yes"\n',
     "transactions.require_customer: 'yes' is not true or false"),
    ('name = "tiny"', 'name = tiny', "not valid TOML"),
])
def test_bad_mappings_name_the_key(old: str, new: str, message: str) -> None:
    assert old in VALID
    with pytest.raises(ConfigError) as raised:
        parse_mapping(VALID.replace(old, new, 1))
    assert message in str(raised.value)


def test_missing_section_is_named() -> None:
    with pytest.raises(ConfigError, match="transactions: is required"):
        parse_mapping(VALID.split("[transactions]")[0])


@pytest.mark.parametrize(("old", "new", "message"), [
    ('name = "name"', 'name = "nmae"',
     "customers.columns.name: column 'nmae' is not in table 'res_partner' (columns: id, name"),
    ('table = "sale_order"', 'table = "sale_orders"',
     "transactions.table: table 'sale_orders' does not exist in schema"),
    ('column = "state"', 'column = "status"',
     "transactions.where[0]: column 'status' is not in table 'sale_order'"),
])
def test_mapping_that_does_not_fit_the_tables_names_the_key(
    postgres_url: str, erp_schemas: tuple[str, str], old: str, new: str, message: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        ErpSource(parse_mapping(VALID.replace(old, new, 1)), postgres_url, schema=erp_schemas[0])
    assert message in str(raised.value)


def test_unknown_mapping_name_lists_the_shipped_ones() -> None:
    with pytest.raises(ConfigError, match="shipped mappings: odoo, erpnext"):
        load_mapping("sap")
