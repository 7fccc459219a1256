"""Secrets and transport: nothing secret leaks anywhere, TLS is verified, plain HTTP is
refused off loopback, and every test server listens on 127.0.0.1 only.
"""

from __future__ import annotations

import secrets
import socket
import ssl
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import certifi
import pytest
from sqlalchemy import create_engine, inspect, text

from magento2_sandbox import MagentoSandbox
from magento2_sandbox.app import SandboxApp
from magento2_sandbox.server import SandboxHTTPServer, serve_in_background
from magerest.client import MagentoAPIError, MagentoClient
from target_dropstream.settings import TargetSettings
from tests.conftest import sandbox_config
from tests.reliability.conftest import (
    DROPSTREAM,
    TAP,
    TARGET,
    openssl,
    order_ids,
    run_cli,
    write_json,
)
from tests.target.conftest import PG_SERVER_URL, _pg_available

# Secrets ------------------------------------------------------------------------------


@pytest.fixture
def pg_url_with_password() -> Iterator[tuple[str, str]]:
    """A throwaway database owned by a throwaway role with a password: (URL, password)."""
    if not _pg_available():
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    suffix = uuid.uuid4().hex[:10]
    role, database = f"dropstream_role_{suffix}", f"dropstream_secret_{suffix}"
    password = "pw-" + secrets.token_hex(12)
    admin = create_engine(PG_SERVER_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE ROLE \"{role}\" LOGIN PASSWORD '{password}'"))
        conn.execute(text(f'CREATE DATABASE "{database}" OWNER "{role}"'))
    try:
        yield f"postgresql+psycopg://{role}:{password}@127.0.0.1:5432/{database}", password
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
            conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
        admin.dispose()


def every_row_as_text(url: str) -> str:
    engine = create_engine(url)
    try:
        parts = []
        with engine.connect() as conn:
            for table in inspect(conn).get_table_names():
                for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                    parts.append(repr(tuple(row)))
        return "\n".join(parts)
    finally:
        engine.dispose()


def test_no_secret_in_any_output_log_state_or_row_with_debug_logging(
    sandbox_factory: Any, tmp_path: Path, pg_url_with_password: tuple[str, str]
) -> None:
    database_url, db_password = pg_url_with_password
    sb = sandbox_factory(order_count=120, seed=9, bearer_enabled=False)  # OAuth 1.0a only
    creds = sb.oauth
    secret_values = {
        "access token": creds.access_token,
        "consumer secret": creds.consumer_secret,
        "access token secret": creds.access_token_secret,
        "database password": db_password,
    }
    debug = {"LOGLEVEL": "DEBUG"}
    tap_settings = sandbox_config(
        sb,
        access_token=creds.access_token,
        consumer_key=creds.consumer_key,
        consumer_secret=creds.consumer_secret,
        access_token_secret=creds.access_token_secret,
        page_size=20,
    )
    target_settings = {
        "database_url": database_url,
        "store_url": sb.base_url,
        "access_token": creds.access_token,
        "consumer_key": creds.consumer_key,
        "consumer_secret": creds.consumer_secret,
        "access_token_secret": creds.access_token_secret,
        "notify_on_run": True,
    }
    tap_file = write_json(tmp_path / "tap.json", tap_settings)
    target_file = write_json(tmp_path / "target.json", target_settings)
    sb.faults.add(path="/V1/orders", status=502, times=1)  # a retry gets logged too
    outputs: list[str] = []

    tap = run_cli([TAP, "--config", str(tap_file)], env=debug)
    assert tap.returncode == 0, tap.stderr[-2000:]
    assert "DEBUG" in tap.stderr  # debug logging really was on
    load = run_cli([TARGET, "--config", str(target_file)], stdin=tap.stdout, env=debug)
    assert load.returncode == 0, load.stderr[-2000:]
    outputs += [tap.stdout, tap.stderr, load.stdout, load.stderr]

    order = next(o for o in sb.data.matching(statuses=["processing"]) if len(o["items"]) == 1)
    shipped = run_cli(
        [
            *(DROPSTREAM, "ship", order["increment_id"]),
            *("--carrier-code", "ups", "--track", "1ZSEC", "--config", str(target_file)),
        ],
        env=debug,
    )
    notified = run_cli([DROPSTREAM, "notify", "--config", str(target_file)], env=debug)
    status = run_cli([DROPSTREAM, "status", "--json", "--config", str(target_file)], env=debug)
    assert notified.returncode == 0, notified.stdout + notified.stderr
    assert status.returncode == 0, status.stderr
    outputs += [shipped.stdout, shipped.stderr, notified.stdout, notified.stderr, status.stdout]

    # Failures must not echo secrets either: a refused signature and a refused database.
    bad_tap = write_json(tmp_path / "bad.json", {**tap_settings, "page_size": 5})
    sb.faults.add(path="/V1/orders", status=401, times=1, body={"message": "Invalid signature"})
    refused = run_cli([TAP, "--config", str(bad_tap)], env=debug)
    assert refused.returncode != 0
    bad_db = database_url.replace("@127.0.0.1:5432", "@127.0.0.1:1")  # nothing listens there
    broken = run_cli([DROPSTREAM, "status", "--database-url", bad_db], env=debug)
    assert broken.returncode != 0
    outputs += [refused.stdout, refused.stderr, broken.stdout, broken.stderr]

    rows = every_row_as_text(database_url)
    assert "1ZSEC" in rows  # the rows really were read
    states = [line for line in load.stdout.splitlines() if "bookmarks" in line]
    assert states
    for name, value in secret_values.items():
        for index, output in enumerate(outputs):
            assert value not in output, f"{name} leaked into output #{index}"
        assert value not in rows, f"{name} stored in the database"
    assert db_password not in str(TargetSettings.from_config({"database_url": database_url}))


# TLS ----------------------------------------------------------------------------------


@dataclass
class HttpsStore:
    url: str
    cert: Path
    sandbox: MagentoSandbox


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A fresh self-signed certificate for 127.0.0.1 (and its key), made with openssl."""
    cert, key = folder / "store-cert.pem", folder / "store-key.pem"
    subprocess.run(
        [
            *(openssl(), "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1"),
            *("-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.fixture
def https_store(sandbox_factory: Any, tmp_path: Path) -> Iterator[HttpsStore]:
    """The sandbox's data served over HTTPS with a self-signed certificate."""
    sb = sandbox_factory(order_count=60, seed=4, bearer_enabled=True)  # TLS is under test here
    cert, key = self_signed_certificate(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    app = SandboxApp(data=sb.data, auth=sb.auth, settings=sb.settings, faults=sb.faults)
    server, thread = serve_in_background(app, tls=context)
    try:
        yield HttpsStore(f"https://127.0.0.1:{server.server_address[1]}", cert, sb)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_tap_refuses_a_self_signed_store_and_says_how_to_trust_it(
    https_store: HttpsStore, tmp_path: Path
) -> None:
    config = sandbox_config(https_store.sandbox, store_url=https_store.url)
    run = run_cli([TAP, "--config", str(write_json(tmp_path / "tap.json", config))])
    assert run.returncode != 0
    last = run.stderr.strip().splitlines()[-1]
    assert "TLS certificate verification failed" in last
    assert "self-signed certificate" in last
    assert "ca_bundle" in last
    assert "Retrying" not in run.stderr  # waiting cannot make the certificate trusted
    assert run.records() == []


def test_tap_trusts_the_store_through_ca_bundle(https_store: HttpsStore, tmp_path: Path) -> None:
    config = sandbox_config(
        https_store.sandbox, store_url=https_store.url, ca_bundle=str(https_store.cert)
    )
    run = run_cli([TAP, "--config", str(write_json(tmp_path / "tap.json", config))])
    assert run.returncode == 0, run.stderr[-2000:]
    expected = https_store.sandbox.data.matching(statuses=["processing"])
    assert order_ids(run.records()) == order_ids(expected)


def test_targets_magento_calls_follow_the_same_tls_rules(
    https_store: HttpsStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A CA bundle in the environment (common on corporate machines) must not replace
    # the configured ca_bundle, nor make the self-signed store trusted.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", certifi.where())
    token = https_store.sandbox.access_token
    untrusted = MagentoClient(https_store.url, token)
    with pytest.raises(MagentoAPIError) as caught:
        untrusted.get("/V1/store/storeViews")
    assert "TLS certificate verification failed" in str(caught.value)
    assert "gave up" not in str(caught.value)  # not retried: it cannot get better
    settings = TargetSettings.from_config(
        {"store_url": https_store.url, "access_token": token, "ca_bundle": str(https_store.cert)}
    )
    trusted = MagentoClient.from_settings(settings)
    views = trusted.get("/V1/store/storeViews")
    assert {view["code"] for view in views} >= {"admin", "default"}


def test_plain_http_is_refused_off_loopback_unless_allowed() -> None:
    with pytest.raises(ValueError, match="allow_insecure_http") as caught:
        MagentoClient("http://shop.example.com", "token-value")
    assert "token-value" not in str(caught.value)
    MagentoClient("http://shop.example.com", "t", allow_insecure_http=True).close()
    MagentoClient("http://127.0.0.1:8080", "t").close()  # loopback never leaves the host


# Loopback only ------------------------------------------------------------------------


def listening_addresses(port: int) -> set[str]:
    """Local addresses with a listening TCP socket on ``port`` (from /proc/net/tcp{,6})."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            address, port_hex = fields[1].rsplit(":", 1)
            if int(port_hex, 16) == port and fields[3] == "0A":  # 0A = LISTEN
                found.add(address)
    return found


def test_sandbox_and_https_server_listen_on_loopback_only(
    sandbox_factory: Any, https_store: HttpsStore
) -> None:
    if not Path("/proc/net/tcp").exists():
        pytest.skip("needs /proc/net/tcp")
    sb = sandbox_factory(order_count=5)
    https_port = int(https_store.url.rsplit(":", 1)[1])
    for port in (sb.port, https_port):
        assert listening_addresses(port) == {"0100007F"}  # 127.0.0.1, nothing else
    with pytest.raises(ValueError, match="loopback"):
        MagentoSandbox(host="0.0.0.0")  # the refusal is the point
    app = SandboxApp(data=sb.data, auth=sb.auth, settings=sb.settings, faults=sb.faults)
    with pytest.raises(ValueError, match="loopback"):
        SandboxHTTPServer(("0.0.0.0", 0), app)
    with socket.create_connection(("127.0.0.1", sb.port), timeout=2):
        pass  # reachable on loopback


def test_dropstream_notify_and_release_trust_the_store_through_ca_bundle(
    https_store: HttpsStore,
) -> None:
    from inspect import signature

    from target_dropstream.notify import notify_pending
    from target_dropstream.release import release_due_orders

    # Both build their clients with the one factory, which carries ca_bundle.
    for runner in (notify_pending, release_due_orders):
        factory = signature(runner).parameters["client_factory"].default
        assert factory == MagentoClient.from_settings
    settings = TargetSettings.from_config(
        {
            "store_url": https_store.url,
            "access_token": https_store.sandbox.access_token,
            "ca_bundle": str(https_store.cert),
        }
    )
    with MagentoClient.from_settings(settings, None) as client:
        views = client.get("/V1/store/storeViews")
        assert {view["code"] for view in views} >= {"admin", "default"}
