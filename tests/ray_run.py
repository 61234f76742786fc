"""Start a command in a network namespace of its own, with only loopback up.

Ray binds to the machine's network address whatever it is told; inside a fresh
namespace the only address is 127.0.0.1, so a test's Ray cluster cannot be reached
from, or reach, anything else. Every process the command starts carries a marker in
its environment, so a test can check that none is left behind.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

from .conftest import PROJECT_ROOT

PYTHON = sys.executable
ARCHIVE = str(Path(sys.executable).with_name("archive"))
MARKER = "ARCHIVE_RAY_TEST_RUN"


def namespace_command(args: list[str]) -> list[str]:
    return ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$@"', "sh", *map(str, args)]


def start(args: list[str], **env: str) -> tuple[subprocess.Popen, str]:
    """Start ``args`` in its own namespace and session; (process, its marker)."""
    marker = uuid.uuid4().hex
    environment = os.environ | env | {MARKER: marker, "NO_COLOR": "1"}
    process = subprocess.Popen(
        namespace_command(args),
        cwd=PROJECT_ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    return process, marker


def run(args: list[str], timeout: float = 240, **env: str) -> subprocess.CompletedProcess:
    """Run ``args`` to the end; fail the test if any process it started outlives it."""
    process, marker = start(args, **env)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    finally:
        if process.poll() is None:
            process.kill()
    assert_none_left(marker)
    return subprocess.CompletedProcess(args, process.returncode, stdout, stderr)


def processes_with(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environment = (entry / "environ").read_bytes()
        except OSError:
            continue  # gone already, or not ours to read
        if f"{MARKER}={marker}".encode() in environment:
            found.append(int(entry.name))
    return found


def assert_none_left(marker: str, grace: float = 15.0) -> None:
    """Ray's own processes (raylet, GCS, workers) must all end with the run."""
    deadline = time.monotonic() + grace
    while (left := processes_with(marker)) and time.monotonic() < deadline:
        time.sleep(0.2)
    if left:
        names = [Path(f"/proc/{pid}/comm").read_text().strip() for pid in left]
        for pid in left:  # clean up before failing, so one failure does not leak into others
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass
        raise AssertionError(f"processes left running after the run: {names}")
