"""One episode through the pipeline: audio → transcript → aligned chapters.

No terminal and no database here: progress and warnings go to the callbacks the
caller passes, and the aligned episode comes back for ``db.store`` to keep.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .align import align_episode, plan_chapters
from .audio import read_audio
from .embedded_chapters import read_embedded_chapters
from .outline import no_outline
from .records import AlignedEpisode, AudioInfo, Chapter, Outline, Transcript
from .textnorm import plural
from .transcribe import DEFAULT_BATCH_SIZE, ProgressCallback, Transcriber

Warn = Callable[[str], None]


class StrictOutlineError(Exception):
    """--strict and the outline needed fixing; nothing was stored."""


@dataclass
class EpisodeRequest:
    audio_path: str
    outline: Outline | None  # None: use the chapters embedded in the audio, if any
    title: str | None = None
    episode_id: str | None = None
    language: str | None = None
    batch_size: int = DEFAULT_BATCH_SIZE
    strict: bool = False
    transcript: Transcript | None = None  # a publisher's transcript: no speech recognition
    show: str | None = None
    description: str | None = None
    published: str | None = None
    audio_url: str | None = None


def episode_id_for(sha256: str) -> str:
    return f"sha256:{sha256[:16]}"


@dataclass
class TranscribedEpisode:
    """An episode read and transcribed, not yet aligned: everything but the samples, so
    it can travel from a Ray worker back to the process that aligns and stores it."""

    request: EpisodeRequest
    audio: AudioInfo
    outline: Outline
    title: str
    chapters: list[Chapter]
    transcript: Transcript


def prepare_episode(
    request: EpisodeRequest,
    transcriber: Callable[[], Transcriber],
    *,
    warn: Warn,
    on_start: Callable[[float], None] = lambda duration: None,
    on_progress: ProgressCallback | None = None,
) -> AlignedEpisode:
    """Decode, transcribe and align one file. ``transcriber`` is called only if needed."""
    transcribed = transcribe_episode(
        request, transcriber, warn=warn, on_start=on_start, on_progress=on_progress
    )
    return align_transcribed(transcribed, warn=warn)


def transcribe_episode(
    request: EpisodeRequest,
    transcriber: Callable[[], Transcriber],
    *,
    warn: Warn,
    on_start: Callable[[float], None] = lambda duration: None,
    on_progress: ProgressCallback | None = None,
) -> TranscribedEpisode:
    """Decode, check the outline and transcribe: the part a Ray worker does."""
    audio, samples = read_audio(request.audio_path)
    for warning in audio.warnings:
        warn(warning)
    outline = request.outline or read_embedded_chapters(request.audio_path) or no_outline()
    title = request.title or audio.title or Path(request.audio_path).stem
    chapters, outline_warnings = plan_chapters(outline, audio.duration, opening_title=title)
    if request.strict and outline_warnings:
        raise StrictOutlineError(
            f"{request.audio_path}: not ingested (--strict): "
            f"{plural(len(outline_warnings), 'outline problem')}, the first: {outline_warnings[0]}"
        )
    for warning in outline_warnings:
        warn(warning)
    transcript = request.transcript
    if transcript is None:
        on_start(audio.duration)
        transcript = transcriber().transcribe(
            samples,
            language=request.language,
            batch_size=request.batch_size,
            on_progress=on_progress,
        )
    return TranscribedEpisode(request, audio, outline, title, chapters, transcript)


def align_transcribed(transcribed: TranscribedEpisode, *, warn: Warn) -> AlignedEpisode:
    """Place the transcript in its chapters: the part the one writer does."""
    request, audio = transcribed.request, transcribed.audio
    episode, alignment_warnings = align_episode(
        request.episode_id or episode_id_for(audio.sha256),
        transcribed.title,
        audio,
        transcribed.transcript,
        transcribed.outline.source,
        transcribed.chapters,
    )
    for warning in alignment_warnings:
        warn(warning)
    episode.show = request.show
    episode.description = request.description
    episode.published = request.published
    episode.audio_url = request.audio_url
    return episode
