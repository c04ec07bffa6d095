"""Gunicorn access log without phone numbers: `logger_class` in gunicorn.conf.py.

The request line and the Referer are logged as sent; a customer's phone number in a query
string (an admin search, a hand-made link) would land in the log in full. Digit runs that look
like a phone number (9–15 digits, optionally with `+`/`%2B` and separators) are masked to their
first and last two digits. Unix timestamps (10 digits starting with 1) are left readable.
"""

from __future__ import annotations

import re
from typing import Any

from gunicorn.glogging import Logger

_PHONE_RUN = re.compile(r"(?:\+|%2[bB])?\d(?:[\d\-.]|%20|\+){7,20}\d")
_URL_ATOMS = ("r", "U", "q", "f", "{raw_uri}e")


def mask_phones_in_url(value: str) -> str:
    def mask(match: re.Match[str]) -> str:
        run = match.group(0)
        digits = re.sub(r"\D", "", run.replace("%2B", "").replace("%2b", "").replace("%20", ""))
        if len(digits) < 9 or (len(digits) in (10, 13) and digits[0] == "1" and not run.startswith(("+", "%2"))):
            return run
        return digits[:2] + "…" + digits[-2:]

    return _PHONE_RUN.sub(mask, value)


class PhoneMaskingLogger(Logger):
    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> dict[str, Any]:
        atoms = super().atoms(resp, req, environ, request_time)
        for name in _URL_ATOMS:
            value = atoms.get(name)
            if isinstance(value, str):
                atoms[name] = mask_phones_in_url(value)
        return atoms
