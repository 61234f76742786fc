"""One episode through the pipeline: audio → transcript → aligned chapters.

No terminal and no database here: progress and warnings go to the callbacks the
caller passes, and the aligned episode comes back for ``db.store`` to keep.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .align import align_episode
from .audio import read_audio
from .records import AlignedEpisode, Outline
from .transcribe import DEFAULT_BATCH_SIZE, ProgressCallback, Transcriber

Warn = Callable[[str], None]


@dataclass
class EpisodeRequest:
    audio_path: str
    outline: Outline
    title: str | None = None
    episode_id: str | None = None
    language: str | None = None
    batch_size: int = DEFAULT_BATCH_SIZE


def episode_id_for(sha256: str) -> str:
    return f"sha256:{sha256[:16]}"


def prepare_episode(
    request: EpisodeRequest,
    transcriber: Callable[[], Transcriber],
    *,
    warn: Warn,
    on_start: Callable[[float], None] = lambda duration: None,
    on_progress: ProgressCallback | None = None,
) -> AlignedEpisode:
    """Decode, transcribe and align one file. ``transcriber`` is called only if needed."""
    audio, samples = read_audio(request.audio_path)
    for warning in audio.warnings:
        warn(warning)
    on_start(audio.duration)
    transcript = transcriber().transcribe(
        samples,
        language=request.language,
        batch_size=request.batch_size,
        on_progress=on_progress,
    )
    del samples  # an hour of audio is 230 MB of samples; free it before storing
    title = request.title or audio.title or Path(request.audio_path).stem
    episode, warnings = align_episode(
        request.episode_id or episode_id_for(audio.sha256),
        title,
        audio,
        transcript,
        request.outline,
    )
    for warning in warnings:
        warn(warning)
    return episode
