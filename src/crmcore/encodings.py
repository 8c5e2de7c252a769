"""Text files as users have them: UTF-8, UTF-8 with BOM, GB18030 (GBK, GB2312), UTF-16.

Excel on a Chinese Windows machine saves "CSV" in GBK (code page 936) and "Unicode
text" in UTF-16 with a byte-order mark; other tools write UTF-8, with or without a
BOM. :func:`open_text` reads a file in the encoding the user names, or detects it:

1. a byte-order mark names the encoding (``utf-8-sig``, ``utf-16``);
2. otherwise a file that is valid UTF-8 from its first byte to its last is UTF-8;
3. otherwise it is GB18030 (a superset of GBK and GB2312).

The rule is exact rather than statistical: Chinese text in GBK is, in practice,
never valid UTF-8 (its two-byte characters do not follow UTF-8's lead/continuation
pattern), and plain ASCII reads the same in both. A file in any other encoding is
not guessed: it fails to decode as GB18030 and the error says so, so the user names
the encoding with ``--encoding``. A statistical detector (``charset-normalizer``)
would instead guess among dozens of single-byte code pages, which is what this
module refuses to do silently.

The whole file is checked before any line is handed on, so a file that does not
decode raises :class:`TextDecodeError` (byte offset, line number, encoding) before
anything is stored. Memory stays flat: the check streams the file in chunks.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from pathlib import Path

import attrs

from crmcore.errors import CrmError
from crmcore.i18n import tr

__all__ = [
    "ENCODINGS",
    "DecodedFile",
    "TextDecodeError",
    "UnknownEncodingError",
    "check_encoding",
    "detect_encoding",
    "encoding_name",
    "open_text",
]

ENCODINGS: tuple[str, ...] = ("utf-8", "utf-8-sig", "gb18030", "utf-16")
"""The encodings accepted by name (``--encoding``); see :data:`ALIASES` for other names."""

ALIASES: dict[str, str] = {
    "utf8": "utf-8", "utf-8": "utf-8", "utf_8": "utf-8",
    "utf-8-sig": "utf-8-sig", "utf8-sig": "utf-8-sig", "utf_8_sig": "utf-8-sig",
    "gb18030": "gb18030", "gbk": "gb18030", "gb2312": "gb18030", "cp936": "gb18030",
    "utf-16": "utf-16", "utf16": "utf-16", "utf_16": "utf-16",
}
"""Names accepted for the encodings of :data:`ENCODINGS` (GBK and GB2312 read as GB18030,
which contains them)."""

_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))
_CHUNK = 1 << 20


class UnknownEncodingError(CrmError):
    """An encoding name that is not one of :data:`ENCODINGS` or their aliases."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(tr("{option}: {value!r} is not a supported encoding (available: "
                            "{encodings}; gbk and gb2312 read as gb18030)").format(
            option="--encoding", value=name, encodings=", ".join(ENCODINGS)))


class TextDecodeError(CrmError):
    """A file does not decode in the encoding given or detected; nothing was read from it.

    ``offset`` is the 0-based byte offset of the first bad byte, ``line`` its 1-based
    line number and ``encoding`` the encoding tried.
    """

    def __init__(self, path: str, encoding: str, offset: int, line: int, bad: bytes,
                 detected: bool) -> None:
        self.path = path
        self.encoding = encoding
        self.offset = offset
        self.line = line
        message = tr("{path}: line {line}, byte offset {offset}: bytes {bytes} do not decode "
                     "as {encoding} (the detected encoding) (name the file's encoding with "
                     "--encoding)") if detected else tr(
            "{path}: line {line}, byte offset {offset}: bytes {bytes} do not decode as "
            "{encoding} (the given encoding)")
        super().__init__(message.format(path=path, line=line, offset=offset,
                                        bytes=bad.hex(" "), encoding=encoding))


def encoding_name(name: str) -> str:
    """The canonical name (one of :data:`ENCODINGS`) of ``name``, any case, or
    :class:`UnknownEncodingError` listing the available ones."""
    canonical = ALIASES.get(name.strip().lower().replace(" ", ""))
    if canonical is None:
        raise UnknownEncodingError(name)
    return canonical


def _bom(head: bytes) -> str | None:
    return next((name for bom, name in _BOMS if head.startswith(bom)), None)


def check_encoding(path: str | Path, encoding: str, *, detected: bool = False) -> None:
    """Decode the whole file as ``encoding`` (streaming); :class:`TextDecodeError` at the
    first byte that does not decode."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    fed = 0
    lines = 1
    with open(path, "rb") as file:
        while True:
            chunk = file.read(_CHUNK)
            pending = len(decoder.getstate()[0])
            try:
                lines += decoder.decode(chunk, final=not chunk).count("\n")
            except UnicodeDecodeError as error:
                data = bytes(error.object)
                offset = fed - pending + error.start
                line = _utf16_line(path, offset) if encoding == "utf-16" else \
                    lines + codecs.decode(data[:error.start], encoding).count("\n")
                raise TextDecodeError(str(path), encoding, offset, line,
                                      data[error.start:error.end], detected) from None
            if not chunk:
                return
            fed += len(chunk)


def _utf16_line(path: str | Path, offset: int) -> int:
    """The line of byte ``offset`` in a UTF-16 file (decoding what comes before it)."""
    with open(path, "rb") as file:
        head = file.read(offset - offset % 2)
    return head.decode("utf-16", "replace").count("\n") + 1


def _is_utf8(path: str | Path) -> bool:
    try:
        check_encoding(path, "utf-8")
    except TextDecodeError:
        return False
    return True


def detect_encoding(path: str | Path) -> str:
    """The encoding of a file by the rule of this module: BOM, then strict UTF-8,
    then GB18030."""
    with open(path, "rb") as file:
        bom = _bom(file.read(4))
    if bom is not None:
        return bom
    return "utf-8" if _is_utf8(path) else "gb18030"


@attrs.frozen
class DecodedFile:
    """A checked text file: its path, its encoding and whether that was detected.

    Iterate :meth:`lines` as often as needed (each call reopens the file).
    """

    path: str
    encoding: str
    detected: bool

    def lines(self) -> Iterator[str]:
        """The file's lines with their line ends (``newline=""``, as :mod:`csv` wants);
        a UTF-8 or UTF-16 byte-order mark is dropped."""
        with open(self.path, encoding=self.encoding, newline="") as file:
            yield from file

    def describe(self) -> str:
        """``"gb18030 (detected)"`` or ``"utf-8 (given)"``, for a command's report (in the
        current language)."""
        template = tr("{encoding} (detected)") if self.detected else tr("{encoding} (given)")
        return template.format(encoding=self.encoding)


def open_text(path: str | Path, encoding: str | None = None) -> DecodedFile:
    """Check that ``path`` decodes in ``encoding`` (detected when None) and return it.

    A given ``utf-8`` file starting with a BOM is read as ``utf-8-sig``. Raises
    :class:`UnknownEncodingError`, :class:`TextDecodeError` or :class:`OSError`.
    """
    if encoding is None:
        chosen, detected = detect_encoding(path), True
    else:
        chosen, detected = encoding_name(encoding), False
        if chosen == "utf-8":
            with open(path, "rb") as file:
                if file.read(3) == codecs.BOM_UTF8:
                    chosen = "utf-8-sig"
    check_encoding(path, chosen, detected=detected)
    return DecodedFile(str(path), chosen, detected)
