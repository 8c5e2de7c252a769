"""Demo books the i18n command tests read: one stored in English, one in Chinese."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.i18n.test_chinese_output import CUSTOMERS, run


def _stored_demo(factory: pytest.TempPathFactory, lang: str) -> Path:
    path = factory.mktemp("demo") / f"{lang}.db"
    status, _, err = run("demo", "--db", str(path), "--customers", CUSTOMERS, "--lang", lang)
    assert status == 0, err
    return path


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo database stored once per module, in English (stored codes stay codes)."""
    return _stored_demo(tmp_path_factory, "en")


@pytest.fixture(scope="module")
def zh_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo database stored in Chinese: recorded reasons keep the language of their day."""
    return _stored_demo(tmp_path_factory, "zh_CN")
