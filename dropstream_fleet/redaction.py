"""Keep secrets out of everything the fleet shows: logs, failures, Dagster metadata, output.

Meltano and the plugins already hide the settings they know are sensitive, but a stack
trace, a URL with a password or a header echoed by a proxy can still carry one. Every text
the fleet hands to Dagster or prints goes through a ``Redactor`` that knows the actual
secret values of the run (tokens, database passwords) and a few shapes secrets take.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "***"
#: Values shorter than this are not masked by value (they would mask ordinary words).
MIN_SECRET_LENGTH = 6
_SHAPES = (
    # user:password@ in any URL (database URLs above all)
    (re.compile(r"(?P<keep>[a-z][a-z0-9+.-]*://[^\s:/@]+:)[^\s@/]+(?=@)", re.IGNORECASE), MASK),
    # Authorization: Bearer <token> / OAuth header parameters
    (re.compile(r"(?P<keep>\bBearer\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE), MASK),
    (
        re.compile(
            r"(?P<keep>\b(?:oauth_token|oauth_signature|oauth_consumer_key)\s*=\s*\"?)[^\",&\s]+",
            re.IGNORECASE,
        ),
        MASK,
    ),
    # key=value / "key": "value" pairs whose key says secret
    (
        re.compile(
            r"(?P<keep>[\"']?\b(?:access_token|consumer_secret|consumer_key|access_token_secret|"
            r"password|secret)[\"']?\s*[:=]\s*[\"']?)[^\"'\s,&}]+",
            re.IGNORECASE,
        ),
        MASK,
    ),
)


class Redactor:
    """Masks the given secret values, and anything shaped like a secret, in a text."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        values = {s for s in secrets if s and len(s) >= MIN_SECRET_LENGTH}
        for value in list(values):
            values.update(_url_passwords(value))
        # Longest first, so a secret that contains another is masked whole.
        self._values = sorted(values, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for value in self._values:
            text = text.replace(value, MASK)
        for pattern, mask in _SHAPES:
            text = pattern.sub(lambda m, mask=mask: m.group("keep") + mask, text)
        return text

    def lines(self, lines: Iterable[str]) -> list[str]:
        return [self(line) for line in lines]


def _url_passwords(value: str) -> list[str]:
    """The password inside a URL secret (a database URL), masked wherever it shows alone."""
    match = re.match(r"^[a-z][a-z0-9+.-]*://[^\s:/@]+:([^\s@/]+)@", value, re.IGNORECASE)
    if match and len(match.group(1)) >= MIN_SECRET_LENGTH:
        return [match.group(1)]
    return []
