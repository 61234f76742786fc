"""A whole audio file to a transcript, chunk by chunk, with bounded memory and resume.

The file is decoded in blocks and cut into chunks at silences (``pipeline/chunks.py``);
each chunk is transcribed on its own and, when a checkpoint folder is given, kept on
disk as soon as it is done. Running again after a kill takes the finished chunks from
there and transcribes only the rest. No terminal and no database here: this is the
function a Ray worker runs for a whole episode.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from typing import Callable

from .audio import AudioStream
from .checkpoint import Checkpoint, ChunkResult
from .chunks import AudioChunk, cut_into_chunks
from .records import AudioInfo, Gap, Segment, Transcript
from .sentences import segment_from_words
from .settings import TranscriptionSettings
from .transcribe import ProgressCallback, Transcriber, silence_to_cut_at

logger = logging.getLogger(__name__)
MIN_GAP_PART = 0.5  # a gap cut by a chunk edge keeps its pieces longer than this


@dataclass
class TranscribedFile:
    audio: AudioInfo
    transcript: Transcript
    chunks: int  # how many chunks the file was cut into
    resumed_chunks: int  # of those, how many came from the checkpoint


def transcribe_audio_file(
    audio_path: str | os.PathLike,
    settings: TranscriptionSettings,
    checkpoint_dir: str | os.PathLike | None = None,
    on_progress: ProgressCallback | None = None,
    *,
    transcriber: Callable[[], Transcriber] | None = None,
    stream: AudioStream | None = None,
) -> TranscribedFile:
    """Transcribe the file at ``audio_path`` chunk by chunk.

    ``checkpoint_dir``: keep finished chunks there and reuse those already there (None:
    no checkpoint). ``on_progress`` gets the seconds of audio done so far.
    ``transcriber`` loads the model when first needed (never, if every chunk is in the
    checkpoint); by default from ``settings``. ``stream``: the file already opened.
    """
    stream = stream or AudioStream(audio_path)
    load = transcriber or (lambda: Transcriber.from_settings(settings))
    checkpoint = (
        Checkpoint(checkpoint_dir, stream.sha256, settings.fingerprint())
        if checkpoint_dir is not None
        else None
    )
    started = time.perf_counter()
    results: list[ChunkResult] = []
    reused: list[ChunkResult] = []
    chunks = cut_into_chunks(stream.blocks(), settings.chunk_seconds, silence_to_cut_at)
    for chunk in chunks:
        result = checkpoint.load(chunk.index, chunk.start, chunk.end) if checkpoint else None
        if result is None:
            language = settings.language or (results[0].language if results else None)
            result = _transcribe_chunk(load(), chunk, settings, language, on_progress)
            if checkpoint is not None:
                checkpoint.save(result)
            logger.info("chunk %d (%.1f-%.1f s) transcribed", *_where(chunk))
        else:
            reused.append(result)
            logger.info("chunk %d (%.1f-%.1f s) from the checkpoint", *_where(chunk))
        if on_progress is not None:
            on_progress(result.end)
        results.append(result)
    audio = stream.finish()
    transcript = Transcript(
        segments=[segment for result in results for segment in result.segments],
        language=results[0].language if results else settings.language,
        duration=audio.duration,
        model=results[0].model if results else settings.model,
        elapsed=time.perf_counter() - started,
        gaps=[gap for result in results for gap in result.gaps],
        resumed=sum(result.end - result.start for result in reused),
    )
    return TranscribedFile(audio, transcript, len(results), len(reused))


def _where(chunk: AudioChunk) -> tuple[int, float, float]:
    return chunk.index, chunk.start, chunk.end


def _transcribe_chunk(
    transcriber: Transcriber,
    chunk: AudioChunk,
    settings: TranscriptionSettings,
    language: str | None,
    on_progress: ProgressCallback | None,
) -> ChunkResult:
    started = time.perf_counter()
    report = None
    if on_progress is not None:

        def report(seconds: float) -> None:
            on_progress(min(chunk.end, chunk.offset + seconds))

    transcript = transcriber.transcribe(
        chunk.samples,
        language=language,
        batch_size=settings.batch_size,
        on_progress=report,
        offset=chunk.offset,
    )
    return ChunkResult(
        index=chunk.index,
        start=chunk.start,
        end=chunk.end,
        language=transcript.language,
        model=transcript.model,
        segments=_owned_segments(transcript.segments, chunk),
        gaps=_owned_gaps(transcript.gaps, chunk),
        elapsed=round(time.perf_counter() - started, 3),
    )


def _owned_segments(segments: list[Segment], chunk: AudioChunk) -> list[Segment]:
    """Segments moved to episode time, keeping only the words whose middle is in the
    chunk's own span: a word in the margin belongs to the neighbouring chunk."""
    owned = []
    for segment in segments:
        words = []
        for word in segment.words:
            word.start += chunk.offset
            word.end += chunk.offset
            if chunk.start <= (word.start + word.end) / 2 < chunk.end:
                words.append(word)
        if words:
            owned.append(segment_from_words(words, segment))
    return owned


def _owned_gaps(gaps: list[Gap], chunk: AudioChunk) -> list[Gap]:
    owned = []
    for gap in gaps:
        start = max(chunk.start, gap.start + chunk.offset)
        end = min(chunk.end, gap.end + chunk.offset)
        if end - start > MIN_GAP_PART:
            owned.append(Gap(round(start, 3), round(end, 3), gap.reason))
    return owned
