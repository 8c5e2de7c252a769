"""Secrets never appear in a repr or an error message; non-finite numbers are refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore.config import load_config, parse_config
from crmcore.errors import ConfigError
from crmcore.options import Options
from crmcore.redaction import MASK, redacted, redacted_url

CONFIG = """
[storage]
backend = "sql"
url = "postgresql://crm:pg-Pa55word@db.example:5432/crm?sslpassword=ssl-Secret9"

[[notifiers]]
use = "webhook"
url = "https://hooks.example/in?token=tok-Abc123&team=t1"
secret = "whsec-Very5ecret"

[[notifiers]]
use = "smtp"
name = "mail"
host = "127.0.0.1"
password = "smtp-Hunter2"
password_env = "NOT_A_SECRET_NAME"
"""
SECRETS = ("pg-Pa55word", "ssl-Secret9", "tok-Abc123", "whsec-Very5ecret", "smtp-Hunter2")


def test_repr_of_a_loaded_configuration_shows_no_secret(tmp_path: Path) -> None:
    path = tmp_path / "crm.toml"
    path.write_text(CONFIG, encoding="utf-8")
    shown = repr(load_config(path))
    for secret in SECRETS:
        assert secret not in shown
    assert "db.example" in shown
    assert "hooks.example" in shown
    assert "NOT_A_SECRET_NAME" in shown  # *_env keys name a variable, not a secret
    assert MASK in shown


def test_a_secret_given_as_a_number_is_not_echoed() -> None:
    options = Options({"secret": 918273645}, "notifiers[0]")
    with pytest.raises(ConfigError) as raised:
        options.secret("secret", required=True)
    assert "918273645" not in str(raised.value)
    assert "notifiers[0].secret" in str(raised.value)


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan")])
def test_non_finite_numbers_are_refused_naming_the_key(value: float) -> None:
    with pytest.raises(ConfigError, match=r"delivery\.first_retry_seconds: .* not a finite"):
        Options({"first_retry_seconds": value}, "delivery").number("first_retry_seconds")


def test_configuration_file_with_inf_retry_is_an_error_not_a_traceback() -> None:
    with pytest.raises(ConfigError, match="first_retry_seconds"):
        parse_config("[delivery]\nfirst_retry_seconds = inf\n")


@given(st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126,
                                      exclude_characters="@:/?#&=%[]"), min_size=4))
def test_url_passwords_and_query_values_are_masked(secret: str) -> None:
    shown = redacted_url(f"https://user:{secret}@host.example:8443/path?key={secret}")
    assert shown == "https://user:***@host.example:8443/path?key=***"


def test_nested_tables_and_lists_are_redacted_by_key() -> None:
    value = {"auth": {"api_key": "k-1"}, "headers": [{"x": "https://a:b@c.example/"}]}
    assert redacted(value) == {"auth": MASK, "headers": [{"x": f"https://a:{MASK}@c.example/"}]}
