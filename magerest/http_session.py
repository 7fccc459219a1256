"""A ``requests.Session`` that reads each answer's body in one read.

requests reads a body it does not stream in 10 KB chunks, each through several layers of
Python (requests, urllib3, http.client) that need the interpreter lock again: about 150
rounds per page of 100 orders. On the tap's fetch threads that competes with the thread
decoding the previous page. Read whole, a page costs a few socket reads instead, and
``Response.content``, errors and redirects stay what requests gives.
"""

from __future__ import annotations

from typing import Any

import requests


class WholeBodySession(requests.Session):
    """``requests.Session`` whose unstreamed answers are read with one ``iter_content`` step."""

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        if kwargs.get("stream"):
            return super().send(request, **kwargs)
        response = super().send(request, **{**kwargs, "stream": True})
        if response.raw is None or response.status_code == 0:
            return response  # nothing to read; ``content`` is None as requests makes it
        try:
            # chunk_size=None: urllib3 reads up to Content-Length (or each HTTP chunk) at
            # once; requests turns a broken body into its own exceptions, as for ``content``.
            body = b"".join(response.iter_content(chunk_size=None))
        except BaseException:
            response.close()
            raise
        # What ``Response.content`` stores after reading the body itself.
        response._content = body
        return response
