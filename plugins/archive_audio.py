"""Serve the audio files the archive knows, read-only, with HTTP Range requests.

``/-/audio/<sha256>.<ext>`` serves the file that an episode with that audio hash names in
``episodes.audio_path``; nothing else on disk can be reached. A relative path (as in a
published bundle) is relative to the database file. Range requests get 206 responses, so
players can seek to a moment without downloading the whole file.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import aiofiles
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
_BYTE_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class RangeNotSatisfiable(Exception):
    pass


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(first, last) byte of a single-range ``Range`` header; None: send the whole file.

    Multiple ranges and malformed headers are ignored (the whole file is a valid answer).
    """
    match = _BYTE_RANGE.match((header or "").strip())
    if not match or match.groups() == ("", "") or size == 0:
        return None
    first, last = match.groups()
    if first == "":  # "bytes=-500": the last 500 bytes
        if int(last) == 0:
            raise RangeNotSatisfiable()
        return max(0, size - int(last)), size - 1
    first = int(first)
    if last and int(last) < first:
        return None
    if first >= size:
        raise RangeNotSatisfiable()
    return first, (min(int(last), size - 1) if last else size - 1)


async def audio_file(datasette, sha256: str) -> Path | None:
    """The local file an episode with this audio hash names, if one exists."""
    sql = (
        "select audio_path from episodes where audio_sha256 = ? "
        "and coalesce(audio_path, '') != '' limit 1"
    )
    for name, database in datasette.databases.items():
        if name == "_internal" or database.path is None:
            continue
        try:
            row = (await database.execute(sql, [sha256], log_sql_errors=False)).first()
        except sqlite3.DatabaseError:
            continue  # not an archive: no episodes table
        if row:
            path = rules.audio_file_path(database.path, row[0])
            return path if path.is_file() else None
    return None


async def serve_audio(datasette, request, send):
    path = await audio_file(datasette, request.url_vars["sha256"])
    if path is None:
        return Response.text("No such audio file", status=404)
    size = path.stat().st_size
    headers = {
        "accept-ranges": "bytes",
        "content-type": CONTENT_TYPES.get(path.suffix.lower(), "application/octet-stream"),
        "cache-control": "public, max-age=3600",
    }
    try:
        wanted = byte_range(request.headers.get("range"), size)
    except RangeNotSatisfiable:
        return Response.text("", status=416, headers={"content-range": f"bytes */{size}"})
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
    await send_file_bytes(send, path, first, last - first + 1)


async def send_file_bytes(send, path: Path, offset: int, length: int) -> None:
    async with aiofiles.open(path, "rb") as handle:
        await handle.seek(offset)
        while length > 0:
            chunk = await handle.read(min(CHUNK_BYTES, length))
            if not chunk:
                break  # the file shrank under us; the client sees a short body
            length -= len(chunk)
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
    await send({"type": "http.response.body", "body": b""})


@hookimpl
def register_routes():
    return [(rules.AUDIO_ROUTE, serve_audio)]
