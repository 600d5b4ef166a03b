"""A linking page's language: what it declares, else (optionally) a guess.

Pure apart from the optional detector. In this order:

1. ``<html lang>`` (``declared``): what the page says of itself;
2. the ``Content-Language`` header's first tag: what the server says;
3. only with ``LINKWATCH_DETECT_LANG`` on: CLD2 (``pycld2``, the ``lang``
   extra) over the first ``DETECT_CHARS`` characters of the body's text, and
   only when it says its answer is reliable;
4. else unknown (None): never a default language.

A tag is kept as BCP 47 writes it, lower-case (``en``, ``pt-br``,
``zh-hant``); a value that is not a tag (``lang="{{ lang }}"``) is unknown.

Why the detector is off by default: on the benchmark corpus it costs 7.8% of
extraction's CPU on a page that needs it (500 characters: CLD2 0.02 ms, the
text walk 0.03 ms a page), while declared languages cost nothing and two
thirds of the corpus pages declare one (BENCHMARKS.md, 2; the candidates
measured and why CLD2: README, "Language").
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["DETECT_CHARS", "detect", "detector_available", "language_tag", "page_language"]

DETECT_CHARS = 500
# A BCP 47 language tag, loosely: a 2-3 letter primary subtag (or i-/x-
# private ones), then alphanumeric subtags.
_TAG = re.compile(r"^(?:[a-z]{2,3}(?:-[a-z0-9]{1,8})*|[ix](?:-[a-z0-9]{1,8})+)$")
# pycld2 refuses C0/C1 control characters and lone surrogates.
_CLD2_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")

try:
    import pycld2 as _cld2
except ImportError:  # the optional extra is not installed
    _cld2 = None


def detector_available() -> bool:
    return _cld2 is not None


def language_tag(value: str | None) -> str | None:
    """A declared language as a lower-case tag, or None if it is not one;
    ``en_US`` is read as ``en-us``."""
    if not value:
        return None
    tag = value.strip().lower().replace("_", "-")
    return tag if len(tag) <= 35 and _TAG.match(tag) else None


def page_language(
    declared: str | None,
    content_language: str | None,
    text: Any = None,
) -> str | None:
    """The page's language: its ``<html lang>``, else the header's first tag,
    else ``detect(text())`` when a ``text`` callable is given (the caller
    passes one only with detection on)."""
    tag = language_tag(declared)
    if tag is not None:
        return tag
    if content_language:
        tag = language_tag(content_language.split(",", 1)[0])
        if tag is not None:
            return tag
    if text is not None:
        return detect(text())
    return None


def detect(text: str) -> str | None:
    """CLD2's language of ``text`` (``en``, ``zh-hant``...), or None when it is
    unsure, the text is empty or the detector is not installed."""
    if _cld2 is None or not text or text.isspace():
        return None
    try:
        reliable, _, details = _cld2.detect(text)
    except (_cld2.error, UnicodeEncodeError):
        try:
            reliable, _, details = _cld2.detect(_CLD2_BAD.sub(" ", text))
        except (_cld2.error, UnicodeEncodeError):
            return None
    code = details[0][1]
    return code.lower() if reliable and code != "un" else None
