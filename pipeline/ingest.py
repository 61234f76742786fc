"""One episode through the pipeline: audio → transcript → aligned chapters.

No terminal and no database here: progress and warnings go to the callbacks the
caller passes, and the aligned episode comes back for ``db.store`` to keep. The audio
is decoded and transcribed in chunks (``pipeline/longform.py``), never held whole.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .align import align_episode, plan_chapters
from .audio import AudioStream, scan_audio
from .checkpoint import remove_checkpoint
from .embedded_chapters import read_embedded_chapters
from .longform import transcribe_audio_file
from .outline import no_outline
from .records import AlignedEpisode, AudioInfo, Chapter, Outline, Transcript
from .settings import TranscriptionSettings
from .textnorm import plural
from .transcribe import ProgressCallback, Transcriber
from .transcript_checks import fit_to_audio, silence_warning
from .warning_groups import MAX_STORED, capped

Warn = Callable[[str], None]


class StrictOutlineError(Exception):
    """--strict and the outline needed fixing; nothing was stored."""


@dataclass
class EpisodeRequest:
    audio_path: str
    outline: Outline | None  # None: use the chapters embedded in the audio, if any
    title: str | None = None
    episode_id: str | None = None
    strict: bool = False
    transcript: Transcript | None = None  # a publisher's transcript: no speech recognition
    show: str | None = None
    description: str | None = None
    published: str | None = None
    audio_url: str | None = None
    warnings: list[str] = field(default_factory=list)  # raised before, e.g. fetching its feed


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
    warnings: list[str]  # every warning so far, kept with the episode


def prepare_episode(
    request: EpisodeRequest,
    settings: TranscriptionSettings,
    transcriber: Callable[[], Transcriber],
    *,
    warn: Warn,
    **transcribing,
) -> AlignedEpisode:
    """Decode, transcribe and align one file: ``transcribe_episode`` (whose keyword
    arguments ``transcribing`` passes on), then ``align_transcribed``."""
    transcribed = transcribe_episode(request, settings, transcriber, warn=warn, **transcribing)
    return align_transcribed(transcribed, warn=warn)


def transcribe_episode(
    request: EpisodeRequest,
    settings: TranscriptionSettings,
    transcriber: Callable[[], Transcriber],
    *,
    warn: Warn,
    checkpoint_dir: str | os.PathLike | None = None,
    restart: bool = False,
    on_start: Callable[[float], None] = lambda duration: None,
    on_progress: ProgressCallback | None = None,
) -> TranscribedEpisode:
    """Decode, check the outline and transcribe: the part a Ray worker does.

    ``transcriber`` is called only if needed. Finished chunks are kept in ``checkpoint_dir``
    and reused from there (``restart``: discard them first). Every warning goes to ``warn``
    as it is raised and is kept with the episode.
    """
    kept = list(request.warnings)

    def note(message: str) -> None:
        kept.append(message)
        warn(message)

    stream = AudioStream(request.audio_path)
    outline = request.outline or read_embedded_chapters(request.audio_path) or no_outline()
    title = request.title or stream.title or Path(request.audio_path).stem
    if request.strict and stream.declared:  # refuse before spending time transcribing
        _check_strict(request, outline, stream.declared, title)
    transcript = None
    if request.transcript is not None:
        audio = scan_audio(request.audio_path)
        transcript, fit_warnings = fit_to_audio(
            request.transcript, audio.duration, request.audio_path
        )
        for warning in fit_warnings:
            note(warning)
    if transcript is None:  # no publisher's transcript, or one made for another edit
        if restart and checkpoint_dir is not None:
            remove_checkpoint(checkpoint_dir, stream.sha256)
        on_start(stream.declared or 0.0)
        done = transcribe_audio_file(
            request.audio_path,
            settings,
            checkpoint_dir,
            on_progress,
            transcriber=transcriber,
            stream=stream,
        )
        audio, transcript = done.audio, done.transcript
    for warning in audio.warnings:
        note(warning)
    if request.strict:  # the decoded length can differ from the declared one
        _check_strict(request, outline, audio.duration, title)
    chapters, outline_warnings = plan_chapters(outline, audio.duration, opening_title=title)
    for warning in outline_warnings:
        note(warning)
    silence = silence_warning(transcript, request.audio_path)
    if silence:
        note(silence)
    return TranscribedEpisode(request, audio, outline, title, chapters, transcript, kept)


def align_transcribed(transcribed: TranscribedEpisode, *, warn: Warn) -> AlignedEpisode:
    """Place the transcript in its chapters: the part the one writer does."""
    kept = list(transcribed.warnings)

    def note(message: str) -> None:
        kept.append(message)
        warn(message)

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
        note(warning)
    episode.show = request.show
    episode.description = request.description
    episode.published = request.published
    episode.audio_url = request.audio_url
    episode.warnings = capped(kept, "warnings", shown=MAX_STORED - 1)
    return episode


def _check_strict(request: EpisodeRequest, outline: Outline, duration: float, title: str):
    _, warnings = plan_chapters(outline, duration, opening_title=title)
    if warnings:
        raise StrictOutlineError(
            f"{request.audio_path}: not ingested (--strict): "
            f"{plural(len(warnings), 'outline problem')}, the first: {warnings[0]}"
        )
