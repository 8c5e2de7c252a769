"""What ``crmcore import`` reports about a file (its encoding or sheet) and the row count a
terminal shows, in the run's language."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from tests.i18n.test_chinese_output import run

from crmcore.cli.common import Progress
from crmcore.i18n import language

PURCHASES = "customer_id,date,amount\n张三,2025-03-01,1200\n"


@pytest.mark.parametrize(("lang", "detected", "given"), [
    ("zh_CN", "gb18030（自动检测）", "gb18030（已指定）"),
    ("en", "gb18030 (detected)", "gb18030 (given)"),
])
def test_the_encoding_read_is_reported_in_the_language(tmp_path: Path, lang: str,
                                                       detected: str, given: str) -> None:
    path = tmp_path / "gbk.csv"
    path.write_bytes(PURCHASES.encode("gbk"))
    for options, expected in (((), detected), (("--encoding", "gbk"), given)):
        status, out, err = run("import", "transactions", str(path), "--db",
                               str(tmp_path / f"{lang}{len(options)}.db"),
                               "--create-customers", "--lang", lang, *options)
        assert status == 0, err
        separator = "：" if lang == "zh_CN" else ": "
        assert out.splitlines()[0] == f"{path}{separator}{expected}"


def test_the_row_count_of_a_terminal_is_worded_in_the_language() -> None:
    stream = io.StringIO()
    with language("zh_CN"):
        progress = Progress("正在读取 t.csv", stream=stream, every=2, enabled=True)
        progress(2)
        progress.done()
    assert stream.getvalue() == "\r正在读取 t.csv：2 行\r正在读取 t.csv：2 行\n"
