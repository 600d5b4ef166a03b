"""Which characters a page's bytes are: the HTML standard's order of precedence,
shaped for Lexbor (crawler/extraction.py hands it what `parser_input` returns).

Pure: bytes and a header charset in, no I/O.
"""

from __future__ import annotations

import codecs
import re
from functools import lru_cache

_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_META_CHARSET = re.compile(rb"<meta[^>]*charset", re.IGNORECASE)
# The HTML standard reads these labels as windows-1252 (its superset).
_WINDOWS_1252_CODECS = frozenset({"ascii", "iso8859-1", "latin-1"})
# ASCII bytes, and escape sequences of the stateful encodings (ISO-2022-JP,
# HZ, UTF-7) that switch them to another character set.
_ASCII_PROBE = bytes(range(128)) + b"\x1b$B<R\x1b(B ~{<R~} +AGEA-"


def parser_input(body: bytes | str, encoding: str | None) -> tuple[bytes | str, bool]:
    """What to hand Lexbor, and whether Lexbor should detect the encoding itself.

    Lexbor parses bytes as UTF-8 (invalid sequences become U+FFFD), so UTF-8
    and ASCII bodies go in as they are: no decode, no re-encode. The order of
    precedence is the HTML standard's: byte-order mark, then the HTTP charset,
    then the document's ``<meta>`` declaration (Lexbor's prescan of the first
    1024 bytes), then a guess: UTF-8 if the bytes are valid UTF-8, else
    windows-1252.
    """
    if isinstance(body, str):
        return body, False
    if body.startswith(_UTF8_BOM):
        return body[3:], False
    if body.startswith(_UTF16_BOMS):
        return body, True
    codec = _codec(encoding) if encoding else None
    if codec is None:
        if _META_CHARSET.search(body, 0, 1024):
            return body, True
        return undeclared(body), False
    if codec == "utf-8" or (body.isascii() and _ascii_compatible(codec)):
        return body, False
    return body.decode(codec, "replace"), False


def undeclared(body: bytes) -> bytes | str:
    """A body of unknown encoding: UTF-8 if it is valid UTF-8, else windows-1252."""
    if body.isascii():
        return body
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return body.decode("cp1252", "replace")
    return body


@lru_cache(maxsize=64)
def _codec(label: str) -> str | None:
    """The Python codec for a Content-Type charset label; None if unusable."""
    name = label.strip(" \t\"'").lower()
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError):
        return None
    # codecs also registers transforms (base64, rot13) that cannot decode text.
    if not getattr(info, "_is_text_encoding", True):
        return None
    if info.name in _WINDOWS_1252_CODECS:
        return "cp1252"
    return info.name


@lru_cache(maxsize=64)
def _ascii_compatible(codec: str) -> bool:
    """Whether ASCII-only bytes read the same in ``codec`` (not in UTF-16, ISO-2022-JP...)."""
    try:
        return _ASCII_PROBE.decode(codec, "replace") == _ASCII_PROBE.decode("ascii")
    except Exception:  # a codec that refuses some inputs outright
        return False
