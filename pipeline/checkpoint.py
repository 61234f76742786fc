"""Finished chunks kept on disk, so a killed or failed ingest resumes where it stopped.

Checkpoints live beside the archive, in ``<archive>-checkpoints/`` (as SQLite keeps
``-journal`` and ``-wal`` files beside it), one folder per audio file (by its SHA-256),
one JSON file per finished chunk. They are derived data: deleting them only costs the
transcription time again. Each chunk file is written whole or not at all (written to
a temporary name, then renamed), so a kill never leaves a half-written chunk behind.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .records import Gap, Segment, Word

logger = logging.getLogger(__name__)
# 2: the detector restarts at whole 30 s of file time, repair decodes without it, and
# sampling starts afresh for every chunk;
# a chunk decoded the older way would not match one decoded now.
FORMAT_VERSION = 2


@dataclass
class ChunkResult:
    """One chunk's transcript, in episode time, with the words it owns."""

    index: int
    start: float
    end: float
    language: str | None
    model: str
    segments: list[Segment]
    gaps: list[Gap] = field(default_factory=list)
    elapsed: float = 0.0


def checkpoint_root(db_path: str | os.PathLike) -> Path:
    """Where the checkpoints of the archive at ``db_path`` go: beside it, or in the user's
    cache when its folder cannot be written."""
    beside = Path(str(db_path) + "-checkpoints")
    if beside.is_dir() or os.access(beside.parent.resolve(), os.W_OK):
        return beside
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "transcript-archive" / "checkpoints" / _safe_name(Path(db_path).resolve())


@dataclass
class KeptCheckpoint:
    """An unfinished transcript kept on disk: what ``archive checkpoints`` lists."""

    sha256: str
    folder: Path
    chunks: int
    transcribed_seconds: float  # audio done, up to the last finished chunk's end
    modified: float  # seconds since the epoch
    size: int  # bytes


def kept_checkpoints(root: str | os.PathLike) -> list[KeptCheckpoint]:
    """The checkpoints under ``root``, oldest first. A running ingest may write or remove
    one meanwhile: its half-written files are left out, a removed one is skipped."""
    kept = []
    for manifest in Path(root).glob("*/manifest.json"):
        try:
            kept.append(_kept_checkpoint(Path(root), manifest.parent))
        except FileNotFoundError:
            continue  # stored, and its checkpoint removed, while we looked
    return sorted(kept, key=lambda checkpoint: checkpoint.modified)


def _kept_checkpoint(root: Path, folder: Path) -> KeptCheckpoint:
    checkpoint = Checkpoint.at(root, folder.name)
    files = [p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".tmp-")]
    stats = [path.stat() for path in files]
    return KeptCheckpoint(
        sha256=(checkpoint._stored_manifest() or {}).get("sha256", folder.name),
        folder=folder,
        chunks=checkpoint.finished_chunks(),
        transcribed_seconds=_transcribed_seconds(folder),
        modified=max(stat.st_mtime for stat in stats),
        size=sum(stat.st_size for stat in stats),
    )


def _transcribed_seconds(folder: Path) -> float:
    ends = []
    for path in folder.glob("chunk-*.json"):
        try:
            ends.append(json.loads(path.read_text(encoding="utf-8"))["end"])
        except (OSError, ValueError, KeyError):
            continue  # a damaged chunk is decoded again on resume
    return max(ends, default=0.0)


def remove_checkpoint(root: str | os.PathLike, sha256: str) -> None:
    """Forget the finished chunks of one audio file (stored, or --restart)."""
    Checkpoint.at(root, sha256).discard()


def _safe_name(path: Path) -> str:
    return str(path).strip("/").replace("/", "_")


class Checkpoint:
    """The finished chunks of one audio file transcribed with one set of settings."""

    def __init__(self, root: str | os.PathLike, sha256: str, fingerprint: str):
        self.folder = Path(root) / sha256[:16]
        self.manifest = {"version": FORMAT_VERSION, "sha256": sha256, "settings": fingerprint}
        if self._stored_manifest() not in (None, self.manifest):
            logger.warning("%s: made with other settings; starting over", self.folder)
            self.discard()

    @classmethod
    def at(cls, root: str | os.PathLike, sha256: str) -> "Checkpoint":
        """The checkpoint of one audio file, whatever settings made it."""
        checkpoint = cls.__new__(cls)
        checkpoint.folder = Path(root) / sha256[:16]
        return checkpoint

    def _stored_manifest(self) -> dict | None:
        try:
            return json.loads((self.folder / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def load(self, index: int, start: float, end: float) -> ChunkResult | None:
        """The chunk finished earlier, if it was cut at the same place."""
        try:
            data = json.loads(self._chunk_path(index).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if (data["index"], data["start"], data["end"]) != (index, start, end):
            return None
        return _chunk_from_json(data)

    def finished_chunks(self) -> int:
        return len(list(self.folder.glob("chunk-*.json"))) if self.folder.is_dir() else 0

    def save(self, result: ChunkResult) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        if self._stored_manifest() is None:
            _write_atomically(self.folder / "manifest.json", self.manifest)
        _write_atomically(self._chunk_path(result.index), asdict(result))

    def discard(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
        try:
            self.folder.parent.rmdir()  # only when no other checkpoint is left
        except OSError:
            pass

    def _chunk_path(self, index: int) -> Path:
        return self.folder / f"chunk-{index:05d}.json"


def _write_atomically(path: Path, data: dict) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(data, out, separators=(",", ":"))
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _chunk_from_json(data: dict) -> ChunkResult:
    segments = [
        Segment(
            start=s["start"],
            end=s["end"],
            text=s["text"],
            words=[Word(**w) for w in s["words"]],
            avg_logprob=s["avg_logprob"],
            no_speech_prob=s["no_speech_prob"],
        )
        for s in data["segments"]
    ]
    gaps = [Gap(**gap) for gap in data["gaps"]]
    return ChunkResult(
        data["index"],
        data["start"],
        data["end"],
        data["language"],
        data["model"],
        segments,
        gaps,
        data["elapsed"],
    )
