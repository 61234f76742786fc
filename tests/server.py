"""Real servers for tests and benchmarks: `archive serve` or `datasette serve` on a free port."""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

BIN = Path(sys.executable).parent
ARCHIVE = BIN / "archive"
DATASETTE = BIN / "datasette"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running_server(command: list[str], *, cwd=None, start_timeout: float = 60):
    """Run ``command --port N`` until the block ends; yields the base URL."""
    port = free_port()
    # A file, not a pipe: a full pipe would stall a server that logs every request.
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [str(part) for part in command] + ["--port", str(port)],
            cwd=cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until_answering(base, process, log, start_timeout)
            yield base
        finally:
            process.terminate()
            process.wait(timeout=10)


def archive_server(db_path):
    return running_server([ARCHIVE, "serve", "--db", db_path])


def wait_until_answering(base: str, process, log, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(base + "/-/versions.json", timeout=2)
            return
        except OSError:
            if process.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"server exited: {log.read().decode(errors='replace')}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"server did not answer within {timeout} s")
            time.sleep(0.2)
