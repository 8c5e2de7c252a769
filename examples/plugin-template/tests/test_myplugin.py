"""crmcore-myplugin meets crmcore's scoring contract and is found through its entry point.

Run with the plugin installed next to crmcore and its test extra (the kit)::

    pip install './examples/plugin-template[test]'
    python -m pytest examples/plugin-template/tests
"""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from decimal import Decimal
from importlib import metadata

import pytest
from crmcore_myplugin import TotalSpendScoring, open_total_spend

from crmcore import ConfigError, Options, Transaction, make_plugin_manager
from crmcore.plugins import PluginHost
from crmcore.testing import ScoringContract
from crmcore.testing.scoring_contract import AS_OF


def total_spend(**options: object) -> TotalSpendScoring:
    """The strategy built as crmcore builds it: the factory, given its options."""
    reader = Options(options, "grading.potential")
    strategy = open_total_spend(reader)
    reader.check_all_used()
    return strategy


class TestTotalSpend(ScoringContract):
    """Every property a scoring strategy must have (hypothesis finds the books)."""

    @pytest.fixture
    def strategy(self) -> TotalSpendScoring:
        return total_spend(window_days=90)


def test_scores_the_spend_in_the_window_only() -> None:
    def bought(customer: str, days_ago: int, amount: str) -> Transaction:
        return Transaction(id=f"{customer}-{days_ago}", customer_id=customer,
                           occurred_at=AS_OF - timedelta(days=days_ago), amount=Decimal(amount))

    book = [bought("C1", 10, "5.10"), bought("C1", 80, "4.90"), bought("C2", 200, "99")]
    assert total_spend(window_days=90).score(book, as_of=AS_OF) == {"C1": 10.0, "C2": 0.0}


def test_a_bad_window_names_the_option() -> None:
    with pytest.raises(ConfigError, match=r"grading\.potential\.window_days"):
        total_spend(window_days=0)


def installed() -> None:
    try:
        metadata.distribution("crmcore-myplugin")
    except metadata.PackageNotFoundError:
        pytest.skip("not installed: pip install ./examples/plugin-template")


def test_the_entry_point_registers_the_strategy_and_the_command(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    installed()
    monkeypatch.delenv("CRMCORE_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    host = PluginHost(make_plugin_manager(load_entry_points=True))
    assert isinstance(host.scoring_strategies().get("total-spend")(Options({}, "s")),
                      TotalSpendScoring)
    assert "myplugin-about" in host.commands()


def test_the_command_runs_from_the_crmcore_command_line() -> None:
    installed()
    code = "import sys; from crmcore.cli import main; sys.exit(main(sys.argv[1:]))"
    done = subprocess.run([sys.executable, "-c", code, "myplugin-about"],
                          capture_output=True, text=True, check=False)
    assert (done.stdout, done.returncode) == ("crmcore-myplugin 0.1.0: scoring total-spend\n", 0)
