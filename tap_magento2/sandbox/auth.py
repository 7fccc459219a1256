"""Who is calling: integration bearer token, OAuth 1.0a signed request, or guest.

Mirrors Magento's user contexts: a Bearer header that does not parse, names an unknown token, or
carries the integration token while "use as standalone Bearer" is off is silently ignored (the
caller becomes a guest and gets the ACL 401). An ``Authorization: OAuth`` request is verified for
real (HMAC-SHA256 over RFC 5849's base string) and its failures raise Magento's OAuth errors.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
import time
from dataclasses import dataclass
from urllib.parse import unquote

from oauthlib.oauth1.rfc5849 import signature as oauth_signature
from oauthlib.oauth1.rfc5849.utils import escape

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


class Authenticator:
    """Decides whether a request is an authenticated integration call."""

    def __init__(self, credentials: OAuthCredentials, *, bearer_enabled: bool) -> None:
        self.credentials = credentials
        self.bearer_enabled = bearer_enabled
        self._nonces: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def is_integration(
        self, authorization: str | None, method: str, url: str, query: list[tuple[str, str]]
    ) -> bool:
        """True for a valid integration call; False for guest; raises for failed OAuth."""
        if not authorization:
            return False
        if authorization.strip()[:6].lower() == "oauth ":
            self.verify_oauth(authorization, method, url, query)
            return True
        parts = authorization.split(" ")
        if len(parts) != 2 or parts[0].lower() != "bearer":
            return False
        return self.bearer_enabled and _same(parts[1], self.credentials.access_token)

    def verify_oauth(
        self, header: str, method: str, url: str, query: list[tuple[str, str]]
    ) -> None:
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
        signed = [(k, v) for k, v in params.items() if k != "oauth_signature"]
        normalized = oauth_signature.normalize_parameters([*query, *signed])
        base = oauth_signature.signature_base_string(
            method.upper(), oauth_signature.base_string_uri(url), normalized
        )
        key = f"{escape(creds.consumer_secret)}&{escape(creds.access_token_secret)}"
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
