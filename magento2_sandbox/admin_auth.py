"""Admin accounts and ``POST /V1/integration/admin/token``.

Since 2.4.4 Magento issues admin tokens as JWTs (module JwtUserToken, HS256, ``uid`` and
``utypid`` 2 for an admin, ``iat``/``exp``) that live 4 hours by default
(``oauth/access_token_lifetime/admin``). An admin token is always accepted as a Bearer token
(the "standalone Bearer" switch concerns integration tokens only) and the admin role here is
Administrators: every ACL resource. A token that does not verify, or has expired, is ignored
and the caller is a guest, like any unreadable token (reference §1.1).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import TYPE_CHECKING, Any

from .errors import MagentoError, input_errors

if TYPE_CHECKING:
    from .clock import SandboxClock
    from .endpoints import Call

DEFAULT_ADMIN_USER = "admin"
DEFAULT_ADMIN_PASSWORD = "magento-sandbox-1"
ADMIN_TOKEN_LIFETIME_SECONDS = 4 * 3600
ADMIN_USER_ID = 1
USER_TYPE_ADMIN = 2
#: ``Magento\Integration\Model\AdminTokenService``: wrong or locked credentials.
SIGN_IN_INCORRECT = (
    "The account sign-in was incorrect or your account is disabled temporarily. "
    "Please wait and try again later."
)
_REQUIRED = '"%fieldName" is required. Enter and try again.'


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class AdminAccounts:
    """The store's one admin user and the JWTs issued to it."""

    def __init__(self, username: str, password: str, clock: SandboxClock, seed: int | str) -> None:
        self.username = username
        self.password = password
        self.clock = clock
        self._key = hashlib.sha256(f"magento2-sandbox:{seed}:jwt".encode()).digest()

    def issue(self, username: Any, password: Any) -> str:
        """``AdminTokenServiceInterface::createAdminAccessToken``."""
        missing = [
            (_REQUIRED, {"fieldName": name})
            for name, value in (("username", username), ("password", password))
            if not isinstance(value, str) or not value
        ]
        if missing:
            raise input_errors(missing)
        if not (_same(username, self.username) and _same(password, self.password)):
            raise MagentoError(401, SIGN_IN_INCORRECT)
        now = self.clock.now_epoch()
        claims = {
            "uid": ADMIN_USER_ID,
            "utypid": USER_TYPE_ADMIN,
            "iat": now,
            "exp": now + ADMIN_TOKEN_LIFETIME_SECONDS,
        }
        header = _b64(json.dumps({"kid": "1", "alg": "HS256"}, separators=(",", ":")).encode())
        payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
        return f"{header}.{payload}.{self._sign(f'{header}.{payload}')}"

    def is_admin(self, authorization: str | None) -> bool:
        """A ``Bearer`` header carrying a valid, unexpired admin token of this store."""
        if not authorization:
            return False
        parts = authorization.split(" ")
        if len(parts) != 2 or parts[0].lower() != "bearer" or parts[1].count(".") != 2:
            return False
        header, payload, signature = parts[1].split(".")
        if not _same(signature, self._sign(f"{header}.{payload}")):
            return False
        try:
            claims = json.loads(_unb64(payload))
        except ValueError:
            return False
        return (
            claims.get("utypid") == USER_TYPE_ADMIN
            and int(claims.get("exp", 0)) > self.clock.now_epoch()
        )

    def _sign(self, text: str) -> str:
        return _b64(hmac.new(self._key, text.encode(), hashlib.sha256).digest())


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def admin_token(call: Call) -> tuple[int, Any]:
    """``POST /V1/integration/admin/token`` (anonymous): the token as a JSON string."""
    body = call.json_body()
    body = body if isinstance(body, dict) else {}
    return 200, call.app.admins.issue(body.get("username"), body.get("password"))
