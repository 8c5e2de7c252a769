"""TOML configuration: components by name, errors that name key and value."""

from __future__ import annotations

from pathlib import Path

import pytest

from crmcore import CRM, ConfigError, Customer, load_config, parse_config
from crmcore.plugins import PluginHost


def test_config_file_opens_storage_relative_to_the_file(tmp_path: Path, host: PluginHost
                                                        ) -> None:
    config = tmp_path / "crm.toml"
    config.write_text('[storage]\nbackend = "sqlite"\npath = "data/crm.db"\n\n'
                      '[[notifiers]]\nuse = "recording"\nname = "audit"\n\n'
                      '[delivery]\nfirst_retry_seconds = 5\n')
    (tmp_path / "data").mkdir()
    with CRM.from_file(config, plugins=host) as crm:
        crm.record(Customer(id="C1", name="Acme"))
        assert list(crm.notifiers) == ["audit"]
        assert crm.retry.first_delay.total_seconds() == 5
    assert (tmp_path / "data" / "crm.db").exists()


@pytest.mark.parametrize(("text", "message"), [
    ('[storage]\nbackend = 5\n', "storage.backend: 5 is not a registered name"),
    ('[[notifiers]]\nlevel = "INFO"\n', "notifiers[0].use: None is not a registered name"),
    ('notifiers = "log"\n', "notifiers: 'log' is not a list of tables"),
    ('[[notifiers]]\nuse = "log"\n[[notifiers]]\nuse = "log"\n',
     "notifiers[1].name: 'log' is used twice"),
    ('[delivery]\nfirst_retry_seconds = -1\n', "delivery.first_retry_seconds: -1.0 must be"),
    ('[delivery]\nauto = "yes"\n', "delivery.auto: 'yes' is not true or false"),
    ('[delivery]\nretries = 3\n', "delivery.retries: is not a known option"),
    ('[storgae]\nbackend = "sqlite"\n', "storgae: is not a known section"),
    ('[storage\n', "not valid TOML"),
])
def test_bad_config_names_key_and_value(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(text)
    assert message in str(caught.value)


def test_missing_config_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read configuration file"):
        load_config(tmp_path / "absent.toml")


def test_bad_storage_option_changes_nothing_stored(tmp_path: Path) -> None:
    path = tmp_path / "crm.db"
    with CRM.open("sqlite", path=str(path)) as crm:
        crm.record(Customer(id="C1", name="Acme"))
    with pytest.raises(ConfigError, match="storage.timeout: 'long' is not a number"):
        CRM.open("sqlite", path=str(path), timeout="long")
    with CRM.open("sqlite", path=str(path)) as crm:
        assert [c.id for c in crm.find(Customer)] == ["C1"]


def test_capability_sections_reach_the_lifecycle_thresholds(tmp_path: Path) -> None:
    from crmcore.lifecycle import LifecycleService

    config = tmp_path / "crm.toml"
    config.write_text('[storage]\nbackend = "memory"\n\n[lifecycle]\nat_risk_multiple = 3.5\n')
    with CRM.from_file(config) as crm:
        assert LifecycleService(crm).thresholds.at_risk_multiple == 3.5
    config.write_text('[storage]\nbackend = "memory"\n\n[lifecycle]\nat_risk_multipel = 3\n')
    with CRM.from_file(config) as crm, pytest.raises(
        ConfigError, match=r"lifecycle.at_risk_multipel: is not a known option"
    ):
        LifecycleService(crm)


def test_unknown_capability_section_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"grade: is not a known section \(known: storage, "):
        parse_config('[grade]\nscheme = "rfm"\n')
