"""The records of singer-sdk BATCH messages, read one at a time.

A tap with ``batch_config`` writes its records to JSON Lines files and sends one BATCH
message per file (its manifest) instead of one RECORD message per record. singer-sdk's
default hands each sink a whole file's records at once, past the per-record path, and this
target's sinks build their batches record by record: the orders would be counted and then
dropped. The target therefore reads each file here, line by line, and passes every record
down the RECORD path (stream maps, schema check, fulfillment rules, rejections, commits and
the STATE after them): records that arrive in files load exactly as the same records in
RECORD messages do. Lines are decoded as they are used, so a large file is never held whole.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterable, Iterator, Mapping
from typing import IO, Any
from urllib.parse import urlsplit, urlunsplit

import msgspec
from singer_sdk.contrib.msgspec import decoder as singer_decoder
from singer_sdk.helpers._batch import BaseBatchFileEncoding
from singer_sdk.singerlib.exceptions import InvalidInputLine
from upath import UPath

_RERUN = "Stopping; rerun from the last STATE this target wrote."
_GZIP_MAGIC = b"\x1f\x8b"


class BatchFileError(InvalidInputLine):
    """A BATCH message whose files cannot be read as records; the run stops."""


def batch_records(message: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Every record of a BATCH message's files, in order (decoded as RECORD lines are)."""
    stream = message.get("stream")
    _check_encoding(message, stream)
    manifest = message.get("manifest")
    if not isinstance(manifest, list) or not all(isinstance(url, str) for url in manifest):
        msg = f"A BATCH message for stream {stream!r} has no list of file URLs. {_RERUN}"
        raise BatchFileError(msg)
    for url in manifest:
        yield from _file_records(url)


def _check_encoding(message: Mapping[str, Any], stream: Any) -> None:
    """JSON Lines only: the format singer-sdk taps write and this target reads."""
    raw = message.get("encoding")
    try:
        encoding = BaseBatchFileEncoding.from_dict(dict(raw))  # type: ignore[arg-type]
    except (TypeError, ValueError, KeyError):
        msg = f"A BATCH message for stream {stream!r} has no readable encoding: {raw!r}. {_RERUN}"
        raise BatchFileError(msg) from None
    if encoding.format != "jsonl" or encoding.compression not in (None, "none", "gzip"):
        msg = (
            f"A BATCH message for stream {stream!r} uses {encoding.format} files "
            f"(compression {encoding.compression}); target-dropstream reads JSON Lines files, "
            'plain or gzip: set the tap\'s batch_config encoding to {"format": "jsonl", '
            f'"compression": "gzip"}}. {_RERUN}'
        )
        raise BatchFileError(msg)


def _file_records(url: str) -> Iterator[dict[str, Any]]:
    """The records of one file, gzip or plain by its first bytes.

    singer-sdk's taps gzip every batch file whatever compression their BATCH message
    declares, and no JSON text starts with gzip's magic number.
    """
    shown = _shown(url)
    try:
        # Not StorageTarget.open: it reads inside a transaction of fsspec's shared file
        # system, which a file that stops the run would leave open for every later write.
        with UPath(url).open("rb") as raw:
            gzipped = raw.read(2) == _GZIP_MAGIC
            raw.seek(0)
            lines: IO[bytes] = gzip.GzipFile(fileobj=raw, mode="rb") if gzipped else raw
            yield from _records(lines, shown)
    except (OSError, EOFError, zlib.error, ImportError, ValueError) as exc:
        msg = f"Cannot read the batch file {shown}: {_reason(exc)}. {_RERUN}"
        raise BatchFileError(msg) from None


def _reason(exc: BaseException) -> str:
    """Why a file could not be read, in words that never repeat its URL."""
    if isinstance(exc, ImportError):
        return str(exc)  # fsspec names the package a storage needs ("Install s3fs ...")
    if isinstance(exc, ValueError):
        return "not a URL this target can open"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror  # without the file name, which str() would add
    return str(exc) or type(exc).__name__


def _records(lines: Iterable[bytes], shown: str) -> Iterator[dict[str, Any]]:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = singer_decoder.decode(line)
        except msgspec.DecodeError as exc:
            msg = f"Line {number} of the batch file {shown} is not JSON ({exc}). {_RERUN}"
            raise BatchFileError(msg) from None
        if not isinstance(record, dict):
            msg = (
                f"Line {number} of the batch file {shown} holds {type(record).__name__} "
                f"instead of a record (a JSON object). {_RERUN}"
            )
            raise BatchFileError(msg)
        yield record


def _shown(url: str) -> str:
    """The URL without a query string or user info, which may carry credentials."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path, "", ""))
