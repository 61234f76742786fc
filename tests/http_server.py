"""A real HTTP server on 127.0.0.1 for feed tests: serves files from memory, answers
Range requests, and can misbehave on purpose (cut a body short, ignore Range)."""

from __future__ import annotations

import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CONTENT_TYPES = {
    ".xml": "application/rss+xml",
    ".mp3": "audio/mpeg",
    ".flac": "audio/flac",
    ".srt": "application/x-subrip",
    ".vtt": "text/vtt",
    ".json": "application/json",
    ".html": "text/html",
    ".php": "text/html; charset=utf-8",
}


class FileServer:
    def __init__(self):
        self.files: dict[str, bytes] = {}
        self.cut_short: dict[str, int] = {}  # path → bytes sent before the connection drops
        self.ignore_range: set[str] = set()
        self.no_length: set[str] = set()  # sent without Content-Length, ended by closing
        self.requests: list[tuple[str, str | None]] = []  # (path, Range header)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def url(self, path: str) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/{path.lstrip('/')}"

    def requested(self, path: str) -> list[str | None]:
        """The Range header of every request for ``path`` (None: no Range)."""
        return [header for requested, header in self.requests if requested == "/" + path]

    def start(self) -> FileServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                path = self.path.split("?")[0]
                server.requests.append((path, self.headers.get("Range")))
                body = server.files.get(path.lstrip("/"))
                if body is None:
                    self.send_error(404, "Not Found")
                    return
                start = self._range_start(path, len(body))
                if start is None:
                    return
                self._send(path, body, start)

            def _range_start(self, path, size):
                match = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range") or "")
                if not match or path.lstrip("/") in server.ignore_range:
                    return 0
                start = int(match[1])
                if start >= size:
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{size}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return None
                return start

            def _send(self, path, body, start):
                suffix = "." + path.rsplit(".", 1)[-1] if "." in path else ""
                self.send_response(206 if start else 200)
                self.send_header(
                    "Content-Type", CONTENT_TYPES.get(suffix, "application/octet-stream")
                )
                if path.lstrip("/") not in server.no_length:
                    self.send_header("Content-Length", str(len(body) - start))
                self.send_header("Accept-Ranges", "bytes")
                if start:
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                self.end_headers()
                cut = server.cut_short.get(path.lstrip("/"))
                self.wfile.write(body[start:cut] if cut is not None else body[start:])
                self.close_connection = True

            def log_message(self, *args):
                pass  # keep test output quiet

        return Handler
