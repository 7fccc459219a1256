"""The ``dropstream`` operator CLI: status (text and JSON), release, settings resolution."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from target_dropstream.cli import main
from tests.target.conftest import NOW, imported_first, order, orders_stream, run_target

LATER = NOW + timedelta(hours=2)


@pytest.fixture
def loaded(sqlite_url: str) -> str:
    """A store with one ready, one held (due at 12:30), one canceled order and a rejection."""
    bad = order(9)
    bad["items"][0]["qty_ordered"] = "many"
    run_target(
        {"database_url": sqlite_url, "delay_minutes": 60},
        orders_stream(
            [
                order(1, created_at="2026-01-15 09:00:00"),
                order(2, created_at="2026-01-15 11:30:00"),
                *imported_first(order(3, status="canceled")),
                bad,
            ]
        ),
    )
    return sqlite_url


def invoke(*args: str, now=NOW, env: dict[str, str] | None = None):
    runner = CliRunner()
    return runner.invoke(main, list(args), obj={"clock": lambda: now}, env=env or {})


def test_status_text(loaded: str) -> None:
    result = invoke("status", "--database-url", loaded)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "ready              1" in out
    assert "held               1" in out
    assert "canceled           1" in out
    assert "order 2 (#000000002)  release at 2026-01-15T12:30:00+00:00  [waiting]" in out
    assert "Rejected records (1):" in out
    assert "qty_ordered 'many' is not a number" in out


def test_status_json(loaded: str) -> None:
    result = invoke("status", "--json", "--database-url", loaded)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["counts"] == {
        "held": 1,
        "ready": 1,
        "partially_shipped": 0,
        "shipped": 0,
        "canceled": 1,
        "skipped": 0,
    }
    assert data["held"] == [
        {
            "source": "default",
            "order_id": 2,
            "increment_id": "000000002",
            "magento_status": "processing",
            "release_at": "2026-01-15T12:30:00+00:00",
            "reason": None,
        }
    ]
    assert data["rejected_total"] == 1
    assert data["rejected"][0]["order_id"] == 9
    assert data["rejected"][0]["record"]["items"][0]["qty_ordered"] == "many"


def test_release_releases_due_orders_now(loaded: str) -> None:
    early = invoke("release", "--database-url", loaded, now=NOW)
    assert early.exit_code == 0
    assert early.output.startswith("0 released")
    result = invoke("release", "--database-url", loaded, now=LATER)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("1 released to ready")
    data = json.loads(invoke("status", "--json", "--database-url", loaded).output)
    assert data["counts"]["ready"] == 2
    assert data["held"] == []


def test_database_url_from_environment_and_config_file(loaded: str, tmp_path: Path) -> None:
    from_env = invoke("status", "--json", env={"TARGET_DROPSTREAM_DATABASE_URL": loaded})
    assert json.loads(from_env.output)["counts"]["ready"] == 1

    config = tmp_path / "target.json"
    config.write_text(json.dumps({"database_url": loaded, "delay_minutes": 60}))
    from_file = invoke(
        "status",
        "--json",
        "--config",
        str(config),
        env={"TARGET_DROPSTREAM_DATABASE_URL": "sqlite:///elsewhere.db"},
    )
    assert json.loads(from_file.output)["counts"]["ready"] == 1

    other = tmp_path / "other.json"
    other.write_text(json.dumps({"database_url": "sqlite:///does-not-exist.db"}))
    flag_wins = invoke("status", "--json", "--config", str(other), "--database-url", loaded)
    assert json.loads(flag_wins.output)["counts"]["ready"] == 1


def test_missing_store_and_bad_settings_are_clear_errors(tmp_path: Path) -> None:
    missing = invoke("status", "--database-url", f"sqlite:///{tmp_path / 'none.db'}")
    assert missing.exit_code != 0
    assert "no fulfillment store at" in missing.output
    assert not (tmp_path / "none.db").exists()
    bad = invoke("release", "--database-url", "oracle://scott:tiger@db/x")
    assert bad.exit_code == 2
    assert "database_url" in bad.output
    assert "tiger" not in bad.output


def test_password_in_the_url_is_never_printed(pg_database_url: str) -> None:
    url = pg_database_url.replace("postgres@", "postgres:pa55-word@")
    run_target({"database_url": url}, orders_stream([order(1)]))
    for args in (["status"], ["status", "--json"], ["release"]):
        result = invoke(*args, "--database-url", url)
        assert result.exit_code == 0, result.output
        assert "pa55-word" not in result.output
    assert "postgres:***@" in invoke("status", "--database-url", url).output


def test_console_script(loaded: str) -> None:
    exe = Path(sys.executable).with_name("dropstream")
    done = subprocess.run(
        [str(exe), "status", "--json", "--database-url", loaded],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert json.loads(done.stdout)["counts"]["held"] == 1


def test_status_marks_rejections_a_later_good_version_made_good(sqlite_url: str) -> None:
    def broken(n: int, updated_at: str) -> dict:
        bad = order(n, updated_at=updated_at)
        bad["items"][0]["qty_ordered"] = "many"
        return bad

    config = {"database_url": sqlite_url}
    run_target(
        config,
        orders_stream(
            [
                order(7, updated_at="2026-01-15 10:00:00"),  # good, then a broken newer version
                broken(7, "2026-01-15 11:00:00"),
                broken(8, "2026-01-15 10:00:00"),  # fixed later in Magento
                broken(9, "2026-01-15 10:00:00"),  # never fixed
            ]
        ),
    )
    run_target(config, orders_stream([order(8, updated_at="2026-01-15 10:30:00")]))

    result = invoke("status", "--database-url", sqlite_url, "--json")
    assert result.exit_code == 0, result.output
    flags = {r["order_id"]: r["superseded"] for r in json.loads(result.output)["rejected"]}
    assert flags == {7: False, 8: True, 9: False}
    text = invoke("status", "--database-url", sqlite_url).output
    [line] = [row for row in text.splitlines() if "order 8 " in row]
    assert line.endswith("[superseded: a newer good version loaded]")
