"""Serve the audio files the archive knows, read-only, with HTTP Range requests.

``/-/audio/<sha256>.<ext>`` serves the file that an episode with that audio hash names in
``episodes.audio_path``; nothing else on disk can be reached. A relative path (as in a
published bundle) is relative to the database file. Range requests get 206 responses, so
players can seek to a moment without downloading the whole file.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import sqlite3
import stat
from pathlib import Path

from datasette import hookimpl
from datasette.utils.asgi import Response

try:
    from plugins import archive_rules as rules
except ImportError:  # a published bundle on Datasette alone: the rules file is beside this one
    import runpy
    import types

    rules_file = Path(__file__).with_name("archive_rules.py")
    rules = types.SimpleNamespace(**runpy.run_path(str(rules_file)))

CHUNK_BYTES = 256 * 1024
CONTENT_TYPES = {
    ".mp3": "audio/mpeg",
    ".m4a": "audio/mp4",
    ".m4b": "audio/mp4",
    ".mp4": "video/mp4",
    ".aac": "audio/aac",
    ".flac": "audio/flac",
    ".wav": "audio/wav",
    ".ogg": "audio/ogg",
    ".oga": "audio/ogg",
    ".opus": "audio/ogg",
    ".webm": "audio/webm",
}
_BYTE_RANGE = re.compile(r"^bytes=([0-9]{0,18})-([0-9]{0,18})$")  # 18 digits: past any file size
_verified: dict[tuple, str] = {}  # (device, inode, size, mtime) of a file → its SHA-256


class RangeNotSatisfiable(Exception):
    pass


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(first, last) byte of a single-range ``Range`` header; None: send the whole file.

    A header in another unit, or asking for several ranges, is ignored (the whole file is a
    valid answer to it); a ``bytes=`` range that is malformed, reversed or past the end
    cannot be satisfied.
    """
    header = (header or "").strip()
    if not header.lower().startswith("bytes=") or "," in header:
        return None
    match = _BYTE_RANGE.match(header)
    if not match or match.groups() == ("", "") or size == 0:
        raise RangeNotSatisfiable()
    first, last = match.groups()
    if first == "":  # "bytes=-500": the last 500 bytes
        if int(last) == 0:
            raise RangeNotSatisfiable()
        return max(0, size - int(last)), size - 1
    first = int(first)
    if (last and int(last) < first) or first >= size:
        raise RangeNotSatisfiable()
    return first, (min(int(last), size - 1) if last else size - 1)


AUDIO_PATH_SQL = (
    "select audio_path from episodes where audio_sha256 = ? "
    "and coalesce(audio_path, '') != '' limit 1"
)


async def audio_file(datasette, sha256: str) -> Path | None:
    """The local file an episode with this audio hash names, if it is still that audio."""
    for name, database in datasette.databases.items():
        if name == "_internal" or database.path is None:
            continue
        try:
            rows = await asyncio.to_thread(
                rules.read_privately, database.path, AUDIO_PATH_SQL, [sha256]
            )
        except sqlite3.DatabaseError:
            continue  # not an archive: no episodes table
        if rows:
            path = rules.audio_file_path(database.path, rows[0][0])
            return path if await asyncio.to_thread(is_as_ingested, path, sha256) else None
    return None


def is_as_ingested(path: Path, sha256: str) -> bool:
    """The file is where the archive put it (no link swapped in on the way) and still has
    the audio's hash. Hashes are kept per file identity, so a file is read once."""
    try:
        if os.path.realpath(path) != os.path.abspath(path):
            return False
        status = os.stat(path, follow_symlinks=False)
    except OSError:
        return False
    if not stat.S_ISREG(status.st_mode):
        return False
    identity = file_identity(status)
    if identity not in _verified:
        _verified[identity] = sha256_of(path)
    return _verified[identity] == sha256


def file_identity(status: os.stat_result) -> tuple:
    return (status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


async def serve_audio(datasette, request, send):
    sha256 = request.url_vars["sha256"]
    path = await audio_file(datasette, sha256)
    handle = open_verified(path, sha256) if path else None
    if handle is None:
        return Response.text("No such audio file", status=404)
    with handle:
        await send_audio(request, send, handle, path.suffix.lower())


def open_verified(path: Path, sha256: str):
    """The file opened without following links, if it is the very file that was checked."""
    try:
        handle = open(os.open(path, os.O_RDONLY | os.O_NOFOLLOW), "rb")
    except OSError:
        return None
    if _verified.get(file_identity(os.fstat(handle.fileno()))) != sha256:
        handle.close()  # replaced between the check and the open
        return None
    return handle


async def send_audio(request, send, handle, suffix: str) -> None:
    size = os.fstat(handle.fileno()).st_size
    headers = {
        "accept-ranges": "bytes",
        "content-type": CONTENT_TYPES.get(suffix, "application/octet-stream"),
        "cache-control": "public, max-age=3600",
    }
    try:
        wanted = byte_range(request.headers.get("range"), size)
    except RangeNotSatisfiable:
        response = Response.text("", status=416, headers={"content-range": f"bytes */{size}"})
        await response.asgi_send(send)
        return
    status, (first, last) = (200, (0, size - 1)) if wanted is None else (206, wanted)
    if status == 206:
        headers["content-range"] = f"bytes {first}-{last}/{size}"
    headers["content-length"] = str(last - first + 1)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [[k.encode("latin1"), v.encode("latin1")] for k, v in headers.items()],
        }
    )
    if request.method == "HEAD":
        await send({"type": "http.response.body", "body": b""})
        return
    await send_file_bytes(send, handle, first, last - first + 1)


async def send_file_bytes(send, handle, offset: int, length: int) -> None:
    handle.seek(offset)
    while length > 0:
        chunk = await asyncio.to_thread(handle.read, min(CHUNK_BYTES, length))
        if not chunk:
            break  # the file shrank under us; the client sees a short body
        length -= len(chunk)
        await send({"type": "http.response.body", "body": chunk, "more_body": True})
    await send({"type": "http.response.body", "body": b""})


@hookimpl
def register_routes():
    return [(rules.AUDIO_ROUTE, serve_audio)]
