"""Credentials out of sight: a server URI as logs, errors and `status` may show it.

Pure; used for REDIS_URL, MONGO_URI and LINKWATCH_STORE alike.
"""

from __future__ import annotations

import re

_PASSWORD_PARAM = re.compile(r"([?&](?:password|pass|pwd)=)[^&#]*", re.IGNORECASE)


def mask_url(url: str) -> str:
    """`url` without the password of its userinfo (`redis://:secret@h/0` ->
    `redis://***@h/0`) or of a `password=` parameter (redis-py reads one); a
    URL without credentials comes back unchanged."""
    url = _PASSWORD_PARAM.sub(r"\1***", url)
    scheme, sep, rest = url.partition("://")
    authority, slash, path = rest.partition("/")
    if not sep or "@" not in authority:
        return url
    # The last "@" ends the userinfo: a password may hold a raw "@" itself.
    userinfo, _, hostpart = authority.rpartition("@")
    user = userinfo.split(":", 1)[0]
    return f"{scheme}://{user + ':' if user else ''}***@{hostpart}{slash}{path}"
