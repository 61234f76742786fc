"""Fetch feeds, chapters and transcripts, and download enclosures into the audio cache.

An enclosure is written to ``NAME.part`` and renamed into place only once it is whole,
so a file in the cache under its own name is always complete. An interrupted download
leaves its ``.part`` behind, and the next run asks the server for the rest (HTTP Range).
"""

from __future__ import annotations

import hashlib
import os
import re
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Callable
from urllib.parse import unquote, urlsplit

import httpx

CHUNK_BYTES = 1 << 16
MAX_DOCUMENT_BYTES = 50 << 20  # feeds, chapters and transcripts; audio has no limit
TIMEOUT = httpx.Timeout(30.0, connect=15.0)
ByteProgress = Callable[[int, int | None], None]  # (bytes so far, total when known)
Warn = Callable[[str], None]


class DownloadError(Exception):
    """A URL could not be fetched; the message names it and says why, in one line."""


def user_agent() -> str:
    try:
        return f"transcript-archive/{version('transcript-archive')}"
    except PackageNotFoundError:
        return "transcript-archive"


def http_client() -> httpx.Client:
    return httpx.Client(
        timeout=TIMEOUT, follow_redirects=True, headers={"User-Agent": user_agent()}
    )


def default_cache_dir() -> Path:
    override = os.environ.get("ARCHIVE_CACHE")
    if override:
        return Path(override)
    return Path.home() / ".cache" / "transcript-archive" / "audio"


def is_url(location: str) -> bool:
    return urlsplit(location).scheme in ("http", "https")


def fetch_bytes(client: httpx.Client, url: str, max_bytes: int = MAX_DOCUMENT_BYTES) -> bytes:
    """The body of a small document (a feed, a chapters or transcript file)."""
    _check_scheme(url)
    try:
        with client.stream("GET", url) as response:
            _raise_for_status(response, url)
            body = bytearray()
            for chunk in response.iter_bytes(CHUNK_BYTES):
                body += chunk
                if len(body) > max_bytes:
                    raise DownloadError(f"{url}: larger than {max_bytes >> 20} MiB; not read")
    except httpx.HTTPError as ex:
        raise DownloadError(f"{url}: {_reason(ex)}") from None
    return bytes(body)


def fetch_text(client: httpx.Client, url: str) -> str:
    """A small text document, decoded as UTF-8 (the Podcasting 2.0 formats all are)."""
    return fetch_bytes(client, url).decode("utf-8-sig", errors="replace")


def cached_path(cache_dir: Path, url: str) -> Path:
    """Where ``url`` is kept: its file name for people to read, made unique by a hash of
    the URL (feeds often name every episode ``audio.mp3``)."""
    digest = hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]
    name = Path(re.sub(r"[^A-Za-z0-9._-]+", "_", unquote(Path(urlsplit(url).path).name)))
    stem = name.stem.strip("._")[:80] or "audio"
    suffix = name.suffix if re.fullmatch(r"\.[A-Za-z0-9]{1,5}", name.suffix) else ""
    return cache_dir / f"{stem}-{digest}{suffix}"


def download_enclosure(
    client: httpx.Client,
    url: str,
    cache_dir: Path,
    *,
    stated_length: int | None = None,
    on_progress: ByteProgress | None = None,
    warn: Warn = lambda message: None,
) -> Path:
    """The enclosure's path in the cache, downloading (or finishing) it when needed."""
    _check_scheme(url)
    target = cached_path(cache_dir, url)
    if target.is_file():
        return target
    partial = target.with_name(target.name + ".part")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        expected = _download_to(client, url, partial, on_progress)
    except httpx.HTTPError as ex:
        kept = partial.stat().st_size if partial.exists() else 0
        resume = f"; {kept} bytes kept, run again to resume" if kept else ""
        raise DownloadError(f"{url}: download failed ({_reason(ex)}){resume}") from None
    except OSError as ex:
        raise DownloadError(f"{url}: cannot write to {target.parent} ({ex.strerror})") from None
    size = partial.stat().st_size
    if expected is not None and size != expected:
        raise DownloadError(
            f"{url}: incomplete download, {size} of {expected} bytes; run again to resume"
        )
    if expected is None and stated_length and size != stated_length:
        # The server gave no length to check against; the feed's is often approximate.
        warn(f"{url}: downloaded {size} bytes; the feed says {stated_length}")
    partial.replace(target)
    return target


def _download_to(client, url: str, partial: Path, on_progress) -> int | None:
    """Write (or append) the body to ``partial``; return the whole file's size if known."""
    offset = partial.stat().st_size if partial.exists() else 0
    # Content-Encoding would make byte offsets and lengths refer to the compressed body.
    headers = {"Accept-Encoding": "identity"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    with client.stream("GET", url, headers=headers) as response:
        status = response.status_code
        if offset and status == 416 and _content_range_total(response) == offset:
            return offset  # a previous run had the whole file but stopped before renaming
        if not (offset and status in (206, 416) and _range_start(response) != offset):
            return _write_body(response, url, partial, offset, on_progress)
    # The server cannot continue where the partial file ends: start again.
    partial.unlink()
    return _download_to(client, url, partial, on_progress)


def _write_body(response, url: str, partial: Path, offset: int, on_progress) -> int | None:
    _raise_for_status(response, url)
    if response.headers.get("Content-Type", "").startswith("text/html"):
        # A login or error page sent with 200 would otherwise sit in the cache as "audio".
        raise DownloadError(f"{url}: the server sent a web page, not audio")
    resuming = response.status_code == 206
    if not resuming:
        offset = 0  # the server ignored the Range header and sends the whole file
    expected = _expected_size(response, offset)
    done = offset
    with open(partial, "ab" if resuming else "wb") as out:
        # Unbuffered: every byte that arrived is on disk when a connection drops.
        for chunk in response.iter_bytes():
            out.write(chunk)
            done += len(chunk)
            if on_progress is not None:
                on_progress(done, expected)
    return expected


def _expected_size(response: httpx.Response, offset: int) -> int | None:
    if response.status_code == 206:
        total = _content_range_total(response)
        if total is not None:
            return total
    length = response.headers.get("Content-Length")
    return offset + int(length) if length and length.isdigit() else None


_CONTENT_RANGE = re.compile(r"bytes\s+(?:(\d+)-\d+|\*)/(\d+|\*)")


def _range_start(response: httpx.Response) -> int | None:
    match = _CONTENT_RANGE.match(response.headers.get("Content-Range", ""))
    return int(match[1]) if match and match[1] else None


def _content_range_total(response: httpx.Response) -> int | None:
    match = _CONTENT_RANGE.match(response.headers.get("Content-Range", ""))
    return int(match[2]) if match and match[2] != "*" else None


def _raise_for_status(response: httpx.Response, url: str) -> None:
    if response.status_code >= 400:
        raise DownloadError(f"{url}: HTTP {response.status_code} {response.reason_phrase}")


def _check_scheme(url: str) -> None:
    if not is_url(url):
        raise DownloadError(f"{url}: not an http(s) URL")


def _reason(ex: httpx.HTTPError) -> str:
    if isinstance(ex, httpx.TimeoutException):
        return "timed out"
    text = str(ex).strip() or type(ex).__name__
    return text.splitlines()[0]
