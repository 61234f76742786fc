"""Chapters stored inside the audio file: ID3 CHAP/CTOC in MP3, chapter tracks and
Nero chapters in M4A, Matroska and Ogg chapters (through PyAV)."""

from __future__ import annotations

from pathlib import Path

import av

from .records import Outline, OutlineEntry


def read_embedded_chapters(path: str | Path) -> Outline | None:
    """The file's own chapters, or None when it has none."""
    entries = _id3_chapters(path)
    source = "id3"
    if not entries:
        entries = _container_chapters(path)
        source = "embedded"
    if not entries:
        return None
    return Outline(entries=entries, source=source)


def _id3_chapters(path) -> list[OutlineEntry]:
    """ID3 chapters in the order the top-level table of contents gives, when there is one."""
    from mutagen import MutagenError
    from mutagen.id3 import ID3

    try:
        tags = ID3(path)
    except (MutagenError, OSError):
        return []
    chapters = {frame.element_id: frame for frame in tags.getall("CHAP")}
    if not chapters:
        return []
    listed = [
        element
        for toc in tags.getall("CTOC")
        if toc.flags & 0x02  # the top-level table of contents
        for element in toc.child_element_ids
    ]
    in_toc = [element for element in listed if element in chapters]
    by_time = sorted(chapters, key=lambda element: chapters[element].start_time)
    if not in_toc:
        return [_id3_entry(chapters[e], f"ID3 chapter {e}", False) for e in by_time]
    # Chapters left out of the table of contents are kept, marked hidden.
    return [_id3_entry(chapters[e], f"ID3 chapter {e}", False) for e in in_toc] + [
        _id3_entry(chapters[e], f"ID3 chapter {e} (not in the table of contents)", True)
        for e in by_time
        if e not in in_toc
    ]


def _id3_entry(frame, where: str, hidden: bool) -> OutlineEntry:
    title_frame = frame.sub_frames.get("TIT2")
    title = str(title_frame.text[0]).strip() if title_frame and title_frame.text else ""
    return OutlineEntry(title=title, start=frame.start_time / 1000.0, hidden=hidden, where=where)


def _container_chapters(path) -> list[OutlineEntry]:
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            chapters = container.chapters()
    except (av.error.FFmpegError, OSError):
        return []
    return [
        OutlineEntry(
            title=(chapter["metadata"].get("title") or "").strip(),
            start=float(chapter["start"] * chapter["time_base"]),
            where=f"embedded chapter {number}",
        )
        for number, chapter in enumerate(chapters, start=1)
    ]
