"""Records that arrive in singer-sdk BATCH files load exactly as RECORD messages do.

A tap with ``batch_config`` sends one BATCH message per file of records. singer-sdk's
default would hand the orders sink each file at once, which it counted and dropped while
the STATE after it still went on: every order of such a run was lost. The target now
reads each file line by line down the RECORD path (``target_dropstream.batch_files``).
"""

from __future__ import annotations

import gzip
import importlib.util
import inspect
import json
from pathlib import Path
from typing import Any

import pytest
from singer_sdk.target_base import Target
from sqlalchemy import create_engine, text
from upath import UPath

from magento2_sandbox import MagentoSandbox
from target_dropstream.batch_files import BatchFileError
from target_dropstream.target import TargetDropstream
from tests.conftest import oauth_keys
from tests.target.conftest import (
    NOW,
    order,
    pipe_tap_to_target,
    record_message,
    run_target,
    schema_message,
    state_message,
    tutorial_order,
)

TABLES = ("fulfillment_orders", "fulfillment_lines", "rejected_records")
#: Columns the wall clock fills: two runs in separate processes differ only there.
CLOCK_COLUMNS = frozenset(
    {"created_at", "updated_at", "release_at", "released_at", "rechecked_at", "received_at"}
)


def store_contents(url: str, *, skip: frozenset[str] = frozenset()) -> dict[str, list[Any]]:
    """Every row of the tables a load writes (but the ``skip`` columns), sorted."""
    engine = create_engine(url)
    contents: dict[str, list[Any]] = {}
    with engine.connect() as conn:
        for table in TABLES:
            result = conn.execute(text(f"SELECT * FROM {table}"))
            keep = [i for i, name in enumerate(result.keys()) if name not in skip]
            contents[table] = sorted((tuple(row[i] for i in keep) for row in result), key=repr)
    engine.dispose()
    return contents


def write_batch_file(path: Path, records: list[dict[str, Any]], *, gzipped: bool) -> str:
    body = "".join(json.dumps(record) + "\n" for record in records).encode()
    path.write_bytes(gzip.compress(body) if gzipped else body)
    return path.as_uri()


def batch_message(urls: list[str], compression: str | None = "gzip") -> dict[str, Any]:
    return {
        "type": "BATCH",
        "stream": "orders",
        "encoding": {"format": "jsonl", "compression": compression},
        "manifest": urls,
    }


def sample_orders() -> list[dict[str, Any]]:
    bad = order(6)
    bad["entity_id"] = "six"  # fails the stream schema: set aside with its reason
    return [order(1), order(2, status="pending"), tutorial_order(3), order(4), bad, order(7)]


@pytest.mark.parametrize("gzipped", [True, False])
def test_batch_files_load_as_the_same_records_in_record_messages(
    tmp_path: Path, gzipped: bool
) -> None:
    records = sample_orders()
    first, second = records[:4], records[4:]
    urls = [
        write_batch_file(tmp_path / "one.jsonl", first[:2], gzipped=gzipped),
        write_batch_file(tmp_path / "two.jsonl", first[2:], gzipped=gzipped),
        write_batch_file(tmp_path / "three.jsonl", second, gzipped=gzipped),
    ]
    as_batches = [
        schema_message(),
        batch_message(urls[:2], "gzip" if gzipped else None),
        state_message("after-first"),
        batch_message(urls[2:], "gzip" if gzipped else None),
        state_message("after-second"),
    ]
    as_records = [
        schema_message(),
        *map(record_message, first),
        state_message("after-first"),
        *map(record_message, second),
        state_message("after-second"),
    ]
    batch_url = f"sqlite:///{tmp_path / 'batches.db'}"
    record_url = f"sqlite:///{tmp_path / 'records.db'}"

    batch_states = run_target({"database_url": batch_url}, as_batches)
    record_states = run_target({"database_url": record_url}, as_records)

    loaded = store_contents(batch_url)
    assert loaded == store_contents(record_url)
    assert len(loaded["fulfillment_orders"]) == 4  # 1, 3, 4, 7: order 2 is pending
    assert len(loaded["rejected_records"]) == 1
    assert batch_states == record_states
    assert batch_states[-1]["bookmarks"]["orders"]["replication_key_value"] == "after-second"


def test_a_batch_file_is_committed_in_the_targets_batches(tmp_path: Path) -> None:
    records = [order(n) for n in range(1, 8)]
    url = write_batch_file(tmp_path / "all.jsonl.gz", records, gzipped=True)
    database = f"sqlite:///{tmp_path / 'store.db'}"
    states = run_target(
        {"database_url": database, "batch_size_rows": 3},
        [schema_message(), batch_message([url]), state_message("end")],
    )
    assert len(store_contents(database)["fulfillment_orders"]) == 7
    assert states[-1]["bookmarks"]["orders"]["replication_key_value"] == "end"


def test_a_damaged_batch_file_stops_the_run_naming_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "damaged.jsonl"
    path.write_text(json.dumps(order(1)) + "\n{not json\n")
    database = f"sqlite:///{tmp_path / 'store.db'}"
    messages = [schema_message(), batch_message([path.as_uri()], None), state_message("x")]
    with pytest.raises(BatchFileError) as caught:
        run_target({"database_url": database}, messages)
    message = str(caught.value)
    assert "Line 2 of the batch file" in message
    assert "damaged.jsonl" in message
    assert "rerun from the last STATE" in message
    # The stopped read leaves fsspec's shared file system as it was: a file written through
    # it afterwards (as the tap writes its batch files) is on disk at once.
    after = tmp_path / "after.txt"
    with UPath(after.as_uri()).open("wb") as out:
        out.write(b"written")
    assert after.read_bytes() == b"written"


def test_a_batch_line_that_is_not_an_object_stops_the_run(tmp_path: Path) -> None:
    path = tmp_path / "list.jsonl"
    path.write_text("[1, 2]\n")
    messages = [schema_message(), batch_message([path.as_uri()], None)]
    with pytest.raises(BatchFileError, match="holds list instead of a record"):
        run_target({"database_url": f"sqlite:///{tmp_path / 's.db'}"}, messages)


def test_a_missing_batch_file_stops_the_run_naming_it(tmp_path: Path) -> None:
    missing = (tmp_path / "gone.json.gz").as_uri()
    messages = [schema_message(), batch_message([missing])]
    with pytest.raises(BatchFileError, match=r"Cannot read the batch file .*gone\.json\.gz"):
        run_target({"database_url": f"sqlite:///{tmp_path / 's.db'}"}, messages)


def test_a_cut_gzip_file_stops_the_run(tmp_path: Path) -> None:
    path = tmp_path / "cut.json.gz"
    whole = gzip.compress(b"".join(json.dumps(order(n)).encode() + b"\n" for n in range(50)))
    path.write_bytes(whole[: len(whole) // 2])
    messages = [schema_message(), batch_message([path.as_uri()])]
    with pytest.raises(BatchFileError, match=r"Cannot read the batch file .*cut\.json\.gz"):
        run_target({"database_url": f"sqlite:///{tmp_path / 's.db'}"}, messages)


def test_parquet_batches_are_refused_with_the_setting_to_change(tmp_path: Path) -> None:
    message = batch_message([(tmp_path / "x.parquet").as_uri()])
    message["encoding"] = {"format": "parquet", "compression": "gzip"}
    with pytest.raises(BatchFileError, match=r'batch_config encoding to \{"format": "jsonl"'):
        run_target({"database_url": f"sqlite:///{tmp_path / 's.db'}"}, [schema_message(), message])


def test_credentials_in_a_batch_url_are_never_shown(tmp_path: Path) -> None:
    if _importable("s3fs"):
        pytest.skip("s3fs is installed: the URL would be fetched for real")
    url = "s3://AKIAEXAMPLE:S3CR3T@bucket/runs/f.json.gz?X-Amz-Signature=T0K3N"
    with pytest.raises(BatchFileError) as caught:
        run_target(
            {"database_url": f"sqlite:///{tmp_path / 's.db'}"},
            [schema_message(), batch_message([url])],
        )
    shown = str(caught.value)
    assert "s3://bucket/runs/f.json.gz" in shown
    for secret in ("AKIAEXAMPLE", "S3CR3T", "T0K3N"):
        assert secret not in shown


def test_storage_without_its_package_names_the_package(tmp_path: Path) -> None:
    if _importable("s3fs"):
        pytest.skip("s3fs is installed: the URL would be fetched for real")
    with pytest.raises(BatchFileError, match=r"s3://bucket/f\.json\.gz: Install s3fs"):
        run_target(
            {"database_url": f"sqlite:///{tmp_path / 's.db'}"},
            [schema_message(), batch_message(["s3://bucket/f.json.gz"])],
        )


def _importable(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def test_the_overridden_batch_hook_keeps_the_sdks_signature() -> None:
    ours = inspect.signature(TargetDropstream._process_batch_message)
    sdks = inspect.signature(Target._process_batch_message)
    assert list(ours.parameters) == list(sdks.parameters)


def test_a_tap_with_batch_config_loads_every_order_through_a_pipe(tmp_path: Path) -> None:
    """End to end: the same sandbox orders, once as RECORD messages and once in files."""
    files = tmp_path / "batches"
    files.mkdir()
    with MagentoSandbox(order_count=260, seed=11, now=NOW) as sandbox:
        base = {
            "store_url": sandbox.base_url,
            **oauth_keys(sandbox),
            "start_date": "2000-01-01T00:00:00Z",
            "order_import_status": ["pending", "processing"],
        }
        contents = {}
        for mode in ("records", "batches"):
            config = dict(base)
            if mode == "batches":
                config["batch_config"] = {
                    "encoding": {"format": "jsonl", "compression": "gzip"},
                    "storage": {"root": files.as_uri(), "prefix": "orders-"},
                    "batch_size": 100,
                }
            tap_config = tmp_path / f"tap-{mode}.json"
            tap_config.write_text(json.dumps(config))
            url = f"sqlite:///{tmp_path / f'{mode}.db'}"
            target_config = tmp_path / f"target-{mode}.json"
            target_config.write_text(json.dumps({"database_url": url}))
            result = pipe_tap_to_target(["--config", str(tap_config)], target_config)
            assert result.returncode == 0, result.stderr[-2000:]
            contents[mode] = store_contents(url, skip=CLOCK_COLUMNS)
            states = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
            assert "orders" in states[-1]["bookmarks"]
        expected = sandbox.data.matching(statuses=["pending", "processing"])

    assert len(list(files.iterdir())) >= 3  # the orders really travelled in files
    assert contents["batches"] == contents["records"]
    assert {row[1] for row in contents["batches"]["fulfillment_orders"]} == {
        o["entity_id"] for o in expected if o["status"] == "processing"
    }
