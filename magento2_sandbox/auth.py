"""Who is calling: integration bearer token, OAuth 1.0a signed request, or guest.

Mirrors Magento's user contexts: a Bearer header that does not parse, names an unknown token, or
carries the integration token while "use as standalone Bearer" is off is silently ignored (the
caller becomes a guest and gets the ACL 401). That flag is off by default (2.4.4+) and is read per
store view, for the store code in the URL, so ``/rest/V1`` and ``/rest/<code>/V1`` can disagree.

An ``Authorization: OAuth`` request is verified for real, the way Magento's
``Oauth/Helper/Request.php`` and Laminas' signature do it: query parameters come from the RAW query
string (split on ``&`` and ``=``, ``rawurldecode``: a ``+`` stays a plus, a pair without exactly one
``=`` is left out, a repeated name keeps its last value), keys and values are re-encoded RFC 3986
style, sorted in PHP's natural order (``strnatcmp``) and signed with HMAC-SHA256.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote, unquote

from oauthlib.oauth1.rfc5849 import signature as oauth_signature

from .errors import MagentoError, input_errors

SUPPORTED_SIGNATURE_METHODS = ("HMAC-SHA256",)
TIME_DEVIATION = 600
OAUTH_REQUIRED = (
    "oauth_consumer_key",
    "oauth_signature",
    "oauth_signature_method",
    "oauth_nonce",
    "oauth_timestamp",
    "oauth_token",
)
CONSUMER_ID = "1"


@dataclass(frozen=True)
class OAuthCredentials:
    """The four integration credentials (Magento makes each 32 characters long)."""

    consumer_key: str
    consumer_secret: str
    access_token: str
    access_token_secret: str

    def __repr__(self) -> str:
        return f"OAuthCredentials(consumer_key={self.consumer_key!r}, secrets=***)"


def make_credentials(seed: int | str) -> OAuthCredentials:
    """Deterministic per-seed demo credentials (the sandbox's own, never a user's)."""

    def part(label: str) -> str:
        return hashlib.sha256(f"magento2-sandbox:{seed}:{label}".encode()).hexdigest()[:32]

    return OAuthCredentials(part("ck"), part("cs"), part("at"), part("ats"))


def parse_oauth_header(value: str) -> dict[str, str]:
    """Parse ``OAuth k="v", ...`` into decoded parameters (realm dropped)."""
    params: dict[str, str] = {}
    body = value.strip()[len("OAuth") :].strip()
    for part in body.split(","):
        if "=" not in part:
            continue
        key, raw = part.strip().split("=", 1)
        raw = raw.strip()
        if len(raw) >= 2 and raw[0] == raw[-1] == '"':
            raw = raw[1:-1]
        key = unquote(key.strip())
        if key != "realm":
            params[key] = unquote(raw)
    return params


def raw_query_params(query: str) -> dict[str, str]:
    """The query parameters Magento signs: ``Request::_extractQueryStringParams``."""
    params: dict[str, str] = {}
    for pair in query.split("&") if query else ():
        parts = pair.split("=")
        if len(parts) == 2 and not parts[0].startswith("oauth_"):
            params[unquote(parts[0])] = unquote(parts[1])  # rawurldecode: '+' stays '+'
    return params


def rfc3986(value: str) -> str:
    """PHP's ``rawurlencode``: everything but letters, digits and ``-._~``."""
    return quote(value, safe="~")


_DIGITS = re.compile(r"(\d+)")


def _natural_key(text: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key close to PHP's ``strnatcmp``: runs of digits compare as numbers."""
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part) for part in _DIGITS.split(text) if part
    )


def _strnatcmp(a: str, b: str) -> int:
    key_a, key_b = _natural_key(a), _natural_key(b)
    for (kind_a, part_a), (kind_b, part_b) in zip(key_a, key_b, strict=False):
        if kind_a != kind_b:  # a digit against another character: compare the characters
            part_a, part_b = str(part_a)[0], str(part_b)[0]
        if part_a != part_b:
            return -1 if part_a < part_b else 1  # type: ignore[operator]
    return (len(key_a) > len(key_b)) - (len(key_a) < len(key_b))


def signature_base_string(method: str, url: str, params: Mapping[str, str]) -> str:
    """Laminas ``AbstractSignature::getBaseSignatureString`` over already decoded params."""
    encoded = {rfc3986(k): rfc3986(v) for k, v in params.items() if k != "oauth_signature"}
    ordered = sorted(encoded, key=functools.cmp_to_key(_strnatcmp))
    query = "&".join(f"{key}={encoded[key]}" for key in ordered)
    uri = oauth_signature.base_string_uri(url)
    return "&".join([method.upper(), rfc3986(uri), rfc3986(query)])


class Authenticator:
    """Decides whether a request is an authenticated integration call.

    ``bearer_enabled`` is the "Allow OAuth Access Tokens to be used as standalone Bearer
    tokens" value at default scope; ``bearer_by_store_view`` overrides it per store code.
    """

    def __init__(
        self,
        credentials: OAuthCredentials,
        *,
        bearer_enabled: bool,
        bearer_by_store_view: Mapping[str, bool] | None = None,
    ) -> None:
        self.credentials = credentials
        self.bearer_enabled = bearer_enabled
        self.bearer_by_store_view: dict[str, bool] = dict(bearer_by_store_view or {})
        self._nonces: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def bearer_allowed(self, store_code: str | None) -> bool:
        """The flag as Magento reads it: at the scope of the store code in the URL."""
        return self.bearer_by_store_view.get(store_code or "default", self.bearer_enabled)

    def is_integration(
        self,
        authorization: str | None,
        method: str,
        url: str,
        raw_query: str,
        store_code: str | None = None,
    ) -> bool:
        """True for a valid integration call; False for guest; raises for failed OAuth."""
        if not authorization:
            return False
        if authorization.strip()[:6].lower() == "oauth ":
            self.verify_oauth(authorization, method, url, raw_query)
            return True
        parts = authorization.split(" ")
        if len(parts) != 2 or parts[0].lower() != "bearer":
            return False
        return self.bearer_allowed(store_code) and _same(parts[1], self.credentials.access_token)

    def verify_oauth(self, header: str, method: str, url: str, raw_query: str) -> None:
        """Validate like ``Magento\\Framework\\Oauth\\Oauth::validateAccessTokenRequest``."""
        params = parse_oauth_header(header)
        creds = self.credentials
        if "oauth_version" in params and params["oauth_version"] != "1.0":
            raise MagentoError(
                400, 'The "%1" Oauth version isn\'t supported.', [params["oauth_version"]]
            )
        missing = [p for p in OAUTH_REQUIRED if p not in params]
        if missing:
            raise input_errors(
                [
                    ('"%fieldName" is required. Enter and try again.', {"fieldName": m})
                    for m in missing
                ]
            )
        if len(params["oauth_token"]) != 32:
            raise MagentoError(400, "The token length is invalid. Check the length and try again.")
        method_name = params["oauth_signature_method"]
        if method_name not in SUPPORTED_SIGNATURE_METHODS:
            raise MagentoError(400, "Signature method %1 is not supported", [method_name])
        if len(params["oauth_consumer_key"]) != 32:
            raise MagentoError(401, "Consumer key is not the correct length")
        if not _same(params["oauth_consumer_key"], creds.consumer_key):
            raise MagentoError(401, "A consumer having the specified key does not exist")
        self._check_nonce(params["oauth_nonce"], params["oauth_timestamp"])
        if not _same(params["oauth_token"], creds.access_token):
            raise MagentoError(401, "Specified token does not exist")
        base = signature_base_string(method, url, {**raw_query_params(raw_query), **params})
        key = f"{rfc3986(creds.consumer_secret)}&{rfc3986(creds.access_token_secret)}"
        digest = hmac.new(key.encode(), base.encode(), hashlib.sha256).digest()
        expected = base64.b64encode(digest).decode()
        if not _same(expected, params["oauth_signature"]):
            raise MagentoError(401, "The signature is invalid. Verify and try again.")

    def _check_nonce(self, nonce: str, timestamp: str) -> None:
        try:
            ts = int(timestamp)
        except ValueError:
            ts = 0
        # Magento rejects a timestamp more than 600 s ahead; the sandbox also rejects one more than
        # 600 s behind. Magento wraps the input error, so the caller only sees this text.
        if ts <= 0 or abs(ts - time.time()) > TIME_DEVIATION:
            raise MagentoError(401, "An error occurred validating the nonce")
        with self._lock:
            key = (self.credentials.consumer_key, nonce)
            if key in self._nonces:
                raise MagentoError(
                    401, "The nonce is already being used by the consumer with ID %1", [CONSUMER_ID]
                )
            self._nonces.add(key)


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
