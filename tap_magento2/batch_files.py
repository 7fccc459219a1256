"""Records written to JSON Lines batch files for singer-sdk's ``batch_config``.

singer-sdk's own JSON Lines batcher holds a whole file's records in memory, encodes them with
simplejson and gzips every file at the slowest level, whatever compression the setting asks
for: a tap run with ``batch_config`` used more than twice the CPU of the same run with RECORD
messages. This writer streams each record to its file as it comes (memory stays flat whatever
``batch_size`` is), encodes it as the tap's RECORD lines encode it (the same JSON bytes), and
compresses only when ``compression`` is ``gzip``, at a fast level. A file's manifest is yielded
only once the file is closed, so the BATCH message and the STATE after it never name a file
that is not complete.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable, Iterator
from itertools import chain, islice
from typing import IO, Any
from uuid import uuid4

from singer_sdk.contrib.msgspec import encoder as singer_encoder
from singer_sdk.helpers._batch import BatchConfig
from upath import UPath

#: zlib level 1: about a tenth of the JSON's size, several times faster than level 9.
GZIP_LEVEL = 1
#: Encoded records are written in blocks of about this many bytes.
WRITE_BYTES = 1 << 20


def write_jsonl_batches(
    records: Iterable[dict[str, Any]], config: BatchConfig, *, tap_name: str, stream_name: str
) -> Iterator[list[str]]:
    """Write ``records`` to files of ``config.batch_size`` records; yield each one's manifest."""
    storage = config.storage
    gzipped = config.encoding.compression == "gzip"
    stem = f"{storage.prefix or ''}{tap_name}--{stream_name}-{uuid4()}"
    suffix = ".json.gz" if gzipped else ".json"
    size = max(1, int(config.batch_size))
    # Not StorageTarget.open: it writes inside a transaction of the storage's file system,
    # which fsspec shares, and child streams (order_items) write their own files while a
    # parent's file is open; the first transaction to end takes the other's file with it.
    root = UPath(storage.root, **storage.params).resolve()
    # A prefix may name a folder. Made before the first record is read: reading it syncs the
    # child streams, whose files (written by singer-sdk) go to the same folder.
    (root / stem).parent.mkdir(parents=True, exist_ok=True)
    iterator = iter(records)
    for number, first in enumerate(iterator, start=1):
        path = root / f"{stem}-{number}{suffix}"
        with path.open("wb") as raw:
            out: IO[bytes] = (
                gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=GZIP_LEVEL) if gzipped else raw
            )
            try:
                # The for loop took ``first``; this file takes up to ``size - 1`` more.
                _write_lines(out, chain((first,), islice(iterator, size - 1)))
            finally:
                if out is not raw:
                    out.close()
        yield [path.as_uri()]


def _write_lines(out: IO[bytes], records: Iterable[dict[str, Any]]) -> None:
    """One JSON line per record, written in blocks of about ``WRITE_BYTES``."""
    block = bytearray()
    for record in records:
        block += singer_encoder.encode(record)
        block += b"\n"
        if len(block) >= WRITE_BYTES:
            out.write(block)
            block.clear()
    out.write(block)
