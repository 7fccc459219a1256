"""WholeBodySession: the body read in one step, with requests' content, errors and redirects."""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
import urllib3

from magerest.auth import new_session
from magerest.http_session import WholeBodySession

BODY = bytes(range(256)) * 8192  # 2 MB, as large as a page of 100 big orders


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/plain":
            self._send(BODY, {})
        elif self.path == "/gzip":
            self._send(gzip.compress(BODY), {"Content-Encoding": "gzip"})
        elif self.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for start in range(0, len(BODY), 300_000):
                part = BODY[start : start + 300_000]
                self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        elif self.path == "/cut":
            self.send_response(200)
            self.send_header("Content-Length", str(len(BODY)))
            self.end_headers()
            self.wfile.write(BODY[:1000])
            self.close_connection = True
        elif self.path == "/moved":
            self.send_response(301)
            self.send_header("Location", "/plain")
            self.send_header("Content-Length", "0")
            self.end_headers()

    def _send(self, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_the_plugins_sessions_read_whole_bodies() -> None:
    assert isinstance(new_session({}), WholeBodySession)


@pytest.mark.parametrize("path", ["/plain", "/gzip", "/chunked", "/moved"])
def test_content_is_what_requests_reads(server: str, path: str) -> None:
    response = WholeBodySession().get(server + path)
    assert response.status_code == 200
    assert response.content == BODY
    assert response.content == requests.get(server + path).content


def test_a_body_with_a_length_is_read_in_one_step(
    server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[int | None] = []
    original = urllib3.response.HTTPResponse.read

    def counting_read(self: urllib3.response.HTTPResponse, amt: int | None = None, **kw: object):  # type: ignore[no-untyped-def]
        reads.append(amt)
        return original(self, amt, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(urllib3.response.HTTPResponse, "read", counting_read)
    requests.Session().get(server + "/plain")
    chunked_reads = len(reads)
    reads.clear()
    WholeBodySession().get(server + "/plain")
    assert chunked_reads > 100  # requests alone: 10 KB at a time
    assert len(reads) <= 2  # the whole body, then the end


def test_a_cut_body_raises_what_requests_raises(server: str) -> None:
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.get(server + "/cut")
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        WholeBodySession().get(server + "/cut")


def test_streamed_answers_are_left_to_the_caller(server: str) -> None:
    response = WholeBodySession().get(server + "/plain", stream=True)
    first = response.raw.read(10)
    assert first == BODY[:10]
    response.close()
