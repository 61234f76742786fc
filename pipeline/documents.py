"""Text documents as publishers save them: any Unicode encoding with a byte order mark,
stray control characters, and sizes no outline or transcript ever needs.

Every reader of show notes, chapters and transcripts goes through here, so that each
limit gives the same one clear line.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

MAX_DOCUMENT_BYTES = 10 << 20  # show notes, chapters, transcripts: real ones are a few KiB
MAX_CHAPTERS = 10_000  # one every 30 s for three and a half days
# C0 and C1 controls, DEL and NUL; tabs and line breaks are kept.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# UTF-32's marks first: UTF-32-LE's begins with UTF-16-LE's.
BYTE_ORDER_MARKS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


class DocumentTooLarge(Exception):
    """Over a limit; the message says which, in one line."""


def decode_document(data: bytes) -> str:
    """Text in the encoding its byte order mark names, else UTF-8; controls removed."""
    encoding = next((name for mark, name in BYTE_ORDER_MARKS if data.startswith(mark)), "utf-8")
    return without_controls(data.decode(encoding, errors="replace"))


def without_controls(text: str) -> str:
    """Text that is safe to print and store: no NULs, escapes or other control characters."""
    return CONTROL_CHARACTERS.sub("", text)


def read_document(path: str | Path, what: str, max_bytes: int = MAX_DOCUMENT_BYTES) -> str:
    """The decoded text of a local file; OSError and DocumentTooLarge are the caller's."""
    size = Path(path).stat().st_size
    check_size(size, f"{path}", what, max_bytes)
    return decode_document(Path(path).read_bytes())


def check_size(size: int, name: str, what: str, max_bytes: int = MAX_DOCUMENT_BYTES) -> None:
    if size > max_bytes:
        raise DocumentTooLarge(
            f"{name}: {size / (1 << 20):.1f} MiB; {what} over {max_bytes >> 20} MiB are not read"
        )


def check_chapter_count(count: int, name: str) -> None:
    if count > MAX_CHAPTERS:
        raise DocumentTooLarge(
            f"{name}: {count:,} chapters; at most {MAX_CHAPTERS:,} are read, "
            "so this file was not used"
        )
