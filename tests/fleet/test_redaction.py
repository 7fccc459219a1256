"""Secrets never reach a failure, Dagster metadata or output; Magento's words do.

The last test runs the real ``pipeline.run`` with a stand-in ``meltano`` that prints a
store's secrets in its error lines, the worst case a plugin or a proxy could produce.
"""

from __future__ import annotations

import stat
import sys
from pathlib import Path

import pytest

from dropstream_fleet import meltano_log
from dropstream_fleet.config import parse_fleet
from dropstream_fleet.pipeline import Pipeline, PipelineError, run
from dropstream_fleet.redaction import MASK, Redactor

TOKEN = "tok3n-5ecret-98f18fe07914b836"
DB_PASSWORD = "pg-pass-7731"


def test_known_secret_values_are_masked_wherever_they_appear():
    redact = Redactor([TOKEN, f"postgresql+psycopg://fleet:{DB_PASSWORD}@db:5432/store", None])
    text = f"token={TOKEN} sent; header X-Token: {TOKEN}; password alone: {DB_PASSWORD}"
    masked = redact(text)
    assert TOKEN not in masked
    assert DB_PASSWORD not in masked
    assert masked.count(MASK) == 3


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("connect postgresql+psycopg://fleet:s3cr3t-pw@db:5432/x failed", "s3cr3t-pw"),
        ("Authorization: Bearer abc.DEF-123_xyz", "abc.DEF-123_xyz"),
        ('OAuth oauth_consumer_key="ck1234567", oauth_signature="sig%3D"', "ck1234567"),
        ("{'access_token': 'zz-top-secret', 'store_url': 'https://x'}", "zz-top-secret"),
        ("consumer_secret=hush-hush&next=1", "hush-hush"),
    ],
)
def test_secret_shapes_are_masked_even_when_the_value_is_unknown(text, secret):
    masked = Redactor()(text)
    assert secret not in masked
    assert MASK in masked


def test_short_or_ordinary_values_do_not_mask_ordinary_words():
    assert Redactor(["abc", ""])("abc order 100000123 shipped") == "abc order 100000123 shipped"


def test_the_failure_reason_is_the_taps_words_not_meltanos():
    lines = [
        "2026-01-15T12:00:00.1Z [info     ] meltano      Running job",
        "2026-01-15T12:00:01.1Z [error    ] tap-magento2 Magento at https://shop.example answered "
        "GET /rest/V1/orders with HTTP 401: The consumer isn't authorized to access %resources.",
        "2026-01-15T12:00:01.2Z [error    ] target-dropstream No 'orders' stream in this run "
        "plugin_exc_message='No orders'",
        "2026-01-15T12:00:01.3Z [error    ] meltano      Extractor failed",
    ]
    reason = meltano_log.failure_reason(lines)
    assert reason.splitlines()[0].endswith("The consumer isn't authorized to access %resources.")
    assert "Extractor failed" not in reason
    assert "plugin_exc_message" not in reason


def test_meltanos_own_error_is_the_reason_when_no_plugin_said_anything():
    lines = [
        "2026-01-15T12:00:00.1Z [error    ] meltano      Another 'x' pipeline is already running",
        "2026-01-15T12:00:00.2Z [error    ] meltano      Block run completed",
    ]
    assert meltano_log.failure_reason(lines) == "Another 'x' pipeline is already running"


def test_load_counts_add_up_the_targets_batches():
    lines = [
        "x [info     ] target-dropstream Committed 30 'orders' records: 12 new, 3 updated, 0 older",
        "x [info     ] target-dropstream Committed 5 'orders' records: 5 new, 0 updated, 0 older",
    ]
    assert meltano_log.load_counts(lines) == meltano_log.LoadCounts(35, 17, 3)


def fake_meltano(folder: Path) -> Path:
    """A ``meltano`` that leaks every secret it was given, then fails like the tap would."""
    script = folder / "meltano"
    script.write_text(
        f"#!{sys.executable}\n"
        "import os\n"
        "token = os.environ['TAP_MAGENTO2_ACCESS_TOKEN']\n"
        "db = os.environ['TARGET_DROPSTREAM_DATABASE_URL']\n"
        "print(f'2026-01-15T12:00:00Z [info     ] tap-magento2 config {token} {db}')\n"
        "print(f'2026-01-15T12:00:01Z [error    ] tap-magento2 Magento at https://shop.example "
        "answered GET /rest/V1/orders with HTTP 401: Invalid token {token} (db {db})')\n"
        "raise SystemExit(1)\n",
        encoding="utf-8",
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


def test_a_failed_pipeline_carries_magentos_words_and_no_secret(tmp_path: Path):
    document = {
        "fleet": {"meltano_executable": str(fake_meltano(tmp_path)), "work_dir": "pipelines"},
        "stores": [
            {
                "name": "acme",
                "url": "https://shop.example",
                "store_views": ["default"],
                "credentials": {"access_token_env": "ACME_TOKEN"},
            }
        ],
    }
    fleet = parse_fleet(document, tmp_path / "fleet.yml")
    environ = {
        "ACME_TOKEN": TOKEN,
        "DROPSTREAM_DATABASE_URL": f"postgresql+psycopg://fleet:{DB_PASSWORD}@db/store",
        "MELTANO_DATABASE_URI": f"postgresql+psycopg://fleet:{DB_PASSWORD}@db/meltano",
        "PATH": "/usr/bin:/bin",
    }
    forwarded: list[str] = []
    with pytest.raises(PipelineError) as caught:
        run(Pipeline(fleet, fleet.stores[0], "load", "default"), environ, forwarded.append)
    failure = caught.value
    assert "HTTP 401: Invalid token" in failure.reason
    assert failure.retryable
    shown = "\n".join([failure.reason, failure.outcome.tail, *forwarded])
    assert TOKEN not in shown
    assert DB_PASSWORD not in shown
    assert (tmp_path / "pipelines" / "acme-default").is_dir(), "its own Meltano system dir"
