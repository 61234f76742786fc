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
from .records import AlignedEpisode, Outline, Transcript
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


def prepare_episode(
    request: EpisodeRequest,
    settings: TranscriptionSettings,
    transcriber: Callable[[], Transcriber],
    *,
    warn: Warn,
    checkpoint_dir: str | os.PathLike | None = None,
    restart: bool = False,
    on_start: Callable[[float], None] = lambda duration: None,
    on_progress: ProgressCallback | None = None,
) -> AlignedEpisode:
    """Decode, transcribe and align one file. ``transcriber`` is called only if needed.

    Finished chunks are kept in ``checkpoint_dir`` and reused from there (``restart``:
    discard them first). Every warning goes to ``warn`` as it is raised and is kept with
    the episode.
    """
    kept = list(request.warnings)

    def note(message: str) -> None:
        kept.append(message)
        warn(message)

    episode = _prepare(
        request, settings, transcriber, note, checkpoint_dir, restart, on_start, on_progress
    )
    episode.warnings = capped(kept, "warnings", shown=MAX_STORED - 1)
    return episode


def _prepare(
    request, settings, transcriber, warn, checkpoint_dir, restart, on_start, on_progress
) -> AlignedEpisode:
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
            warn(warning)
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
        warn(warning)
    if request.strict:  # the decoded length can differ from the declared one
        _check_strict(request, outline, audio.duration, title)
    chapters, outline_warnings = plan_chapters(outline, audio.duration, opening_title=title)
    for warning in outline_warnings:
        warn(warning)
    silence = silence_warning(transcript, request.audio_path)
    if silence:
        warn(silence)
    return _aligned(request, title, audio, transcript, outline, chapters, warn)


def _check_strict(request: EpisodeRequest, outline: Outline, duration: float, title: str):
    _, warnings = plan_chapters(outline, duration, opening_title=title)
    if warnings:
        raise StrictOutlineError(
            f"{request.audio_path}: not ingested (--strict): "
            f"{plural(len(warnings), 'outline problem')}, the first: {warnings[0]}"
        )


def _aligned(request, title, audio, transcript, outline, chapters, warn) -> AlignedEpisode:
    episode, alignment_warnings = align_episode(
        request.episode_id or episode_id_for(audio.sha256),
        title,
        audio,
        transcript,
        outline.source,
        chapters,
    )
    for warning in alignment_warnings:
        warn(warning)
    episode.show = request.show
    episode.description = request.description
    episode.published = request.published
    episode.audio_url = request.audio_url
    return episode
