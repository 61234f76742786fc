"""Long episodes: recall per clip, gaps, speed, memory and resume, printed as JSON.

    python benchmarks/long_episode.py recall --minutes 90   # or: make benchmark-long
    python benchmarks/long_episode.py memory --minutes 30 90 180

The episode is the corpus clips joined into one cycle (apollo11 first, then the three
sonnets and jfk, 2 s apart) and repeated to the length asked, encoded as MP3 like a
podcast. ``recall`` runs, each in a fresh process on that file: ``archive ingest``
(default settings) once whole, once killed at about 80% and run again, and once whole
again, then plain faster-whisper batched and sequential (VAD, no conditioning on previous
text). It reports words per clip for each, the gaps the archive lists, heard speech over
5 s with no words that is not listed, wall time, real-time factor, peak memory, the
resumed run's time as a share of the whole run's, and how many segments the resumed run
shares with the whole one (and, as the baseline, two uninterrupted runs share).
``memory`` reports peak memory and real-time factor of ``archive ingest`` per length.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CORPUS = ROOT.parent / "shared" / "corpus"
CYCLE = ["apollo11.mp3", "sonnet-p001.mp3", "sonnet-p002.mp3", "sonnet-p003.mp3", "jfk.flac"]
GAP = 2.0
ARCHIVE = str(Path(sys.executable).with_name("archive"))
UNLISTED_SECONDS = 5.0  # the target: no heard speech this long without words or a gap

from benchmarks.ingest import PLAIN_WORKER  # noqa: E402  (after ROOT is on the path)

# Runs the command as its own child and reports that child's peak RSS (KiB) and CPU
# seconds on stderr. CPU time is steadier than wall time on a machine shared with others.
PEAK_WRAPPER = """
import resource, subprocess, sys
code = subprocess.run(sys.argv[1:], stderr=subprocess.DEVNULL).returncode
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(usage.ru_maxrss, usage.ru_utime + usage.ru_stime, file=sys.stderr)
sys.exit(code)
"""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def make_episode(folder: Path, minutes: float) -> tuple[Path, list[tuple[str, float, float]]]:
    """The repeated corpus cycle as an MP3, and each clip's (name, start, end) in it."""
    from pipeline.audio import SAMPLE_RATE, read_audio

    sys.path.insert(0, str(ROOT / "tests"))
    from audio_tools import ffmpeg, write_wav

    silence = np.zeros(int(GAP * SAMPLE_RATE), dtype=np.float32)
    cycle, clips, clock = [], [], 0.0
    for name in CYCLE:
        samples = read_audio(CORPUS / name)[1]
        cycle += [samples, silence]
        clips.append((name, clock, clock + len(samples) / SAMPLE_RATE))
        clock += (len(samples) + len(silence)) / SAMPLE_RATE
    repeats = max(1, round(minutes * 60 / clock))
    wav = write_wav(folder / "episode.wav", np.concatenate(cycle * repeats))
    mp3 = folder / f"episode-{minutes:g}min.mp3"
    ffmpeg("-i", str(wav), "-b:a", "64k", str(mp3))
    wav.unlink()
    spans = [
        (name, start + repeat * clock, end + repeat * clock)
        for repeat in range(repeats)
        for name, start, end in clips
    ]
    return mp3, spans


def timed(command: list[str]) -> dict:
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", PEAK_WRAPPER, *command], capture_output=True, text=True
    )
    if result.returncode:
        raise SystemExit(f"failed: {command}\n{result.stderr[-2000:]}")
    peak_kib, cpu_seconds = result.stderr.strip().splitlines()[-1].split()
    return {
        "seconds": round(time.perf_counter() - started, 1),
        "cpu_seconds": round(float(cpu_seconds), 1),
        "peak_mib": round(int(peak_kib) / 1024, 1),
        "stdout": result.stdout,
    }


def ingest_command(audio: Path, db: Path) -> list[str]:
    return [ARCHIVE, "ingest", str(audio), "--db", str(db), "-q", "--id", "long"]


def archive_word_midpoints(db: Path) -> list[float]:
    with sqlite3.connect(db) as conn:
        return [row[0] for row in conn.execute("select (start + end) / 2 from words")]


def words_per_clip(midpoints: list[float], spans) -> list[int]:
    starts = np.array([start for _, start, _ in spans])
    counts = [0] * len(spans)
    for middle in midpoints:
        index = int(np.searchsorted(starts, middle, side="right")) - 1
        if index >= 0 and middle <= spans[index][2] + GAP / 2:
            counts[index] += 1
    return counts


def per_clip_table(runs: dict[str, list[int]], spans) -> dict:
    """For each clip name: words in all its repeats per run, and the worst repeat's
    archive / plain-sequential ratio."""
    table = {}
    for name in CYCLE:
        indexes = [i for i, span in enumerate(spans) if span[0] == name]
        row = {run: sum(counts[i] for i in indexes) for run, counts in runs.items()}
        ratios = [
            runs["archive"][i] / runs["plain_sequential"][i]
            for i in indexes
            if runs["plain_sequential"][i]
        ]
        row["worst_repeat_archive_over_sequential"] = round(min(ratios), 3) if ratios else None
        table[name] = row
    return table


def unlisted_silent_speech(audio: Path, db: Path) -> list[tuple[float, float]]:
    """Heard speech (detector restarted every 30 s) over 5 s with no words and no gap."""
    from pipeline.audio import read_audio
    from pipeline.coverage import merge_close, skipped_speech
    from pipeline.records import Segment, Word
    from pipeline.transcribe import speech_regions

    _, samples = read_audio(audio)
    with sqlite3.connect(db) as conn:
        words = [Word(s, e, "", None) for s, e in conn.execute("select start, end from words")]
        gaps = list(conn.execute("select start, end from gaps"))
    heard = merge_close(speech_regions(samples), 2.0)
    silent = skipped_speech(heard, [Segment(0, 0, "", words)], min_gap=UNLISTED_SECONDS)
    return [
        (round(a, 1), round(b, 1))
        for a, b in silent
        if not any(g0 <= a + 1.0 and b - 1.0 <= g1 for g0, g1 in gaps)
    ]


def killed_and_resumed(audio: Path, db: Path, whole: dict) -> dict:
    """Kill an ingest once 80% of its audio is checkpointed, then run it again."""
    checkpoints = Path(str(db) + "-checkpoints")
    from pipeline.audio import AudioStream
    from pipeline.chunks import SEARCH_SECONDS
    from pipeline.settings import DEFAULT_CHUNK_SECONDS

    declared = AudioStream(audio).declared
    # About 80%, but before the last chunk: once that is done the episode is stored.
    chunk_target = min(0.8 * declared, declared - DEFAULT_CHUNK_SECONDS - SEARCH_SECONDS)
    process = subprocess.Popen(ingest_command(audio, db), stderr=subprocess.DEVNULL)
    started = time.perf_counter()
    while process.poll() is None and _checkpointed_seconds(checkpoints) < chunk_target:
        time.sleep(1)
    killed_after = time.perf_counter() - started
    process.send_signal(signal.SIGKILL)
    process.wait()
    done = _checkpointed_seconds(checkpoints)
    log(f"killed after {killed_after:.0f} s with {done:.0f} s checkpointed; resuming")
    resumed = timed(ingest_command(audio, db))
    resumed.pop("stdout")
    return {
        "killed_after_seconds": round(killed_after, 1),
        "checkpointed_seconds_at_kill": round(done, 1),
        "resumed": resumed,
        "resumed_over_whole_run": round(resumed["seconds"] / whole["seconds"], 3),
        "resumed_over_whole_run_cpu": round(resumed["cpu_seconds"] / whole["cpu_seconds"], 3),
        "checkpoints_left_after_storing": checkpoints.exists(),
    }


def _checkpointed_seconds(folder: Path) -> float:
    from pipeline.checkpoint import kept_checkpoints

    return max((kept.transcribed_seconds for kept in kept_checkpoints(folder)), default=0.0)


def segments_of(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return list(conn.execute("select start, end, text from segments order by position"))


def compare_runs(first: Path, second: Path) -> dict:
    a, b = segments_of(first), segments_of(second)
    same = len(set(a) & set(b))
    differing = sorted(set(a) ^ set(b))
    return {
        "segments": [len(a), len(b)],
        "identical_segments": same,
        "identical": a == b,
        "first_difference_at_seconds": differing[0][0] if differing else None,
        "words": [len(archive_word_midpoints(first)), len(archive_word_midpoints(second))],
    }


def recall(minutes: float, folder: Path, resume: bool, partial: Path | None = None) -> dict:
    """The archive first (whole, then killed and resumed), then plain faster-whisper; the
    report so far is written to ``partial`` after each step, for runs cut short."""
    audio, spans = make_episode(folder, minutes)
    duration = spans[-1][2] + GAP
    report = {"episode_minutes": round(duration / 60, 1), "clips": len(spans)}
    runs, counts = {}, {}
    log(f"archive ingest, whole, on {duration / 60:.0f} min")
    whole_db = folder / "whole.db"
    runs["archive"] = timed(ingest_command(audio, whole_db))
    runs["archive"].pop("stdout")
    counts["archive"] = words_per_clip(archive_word_midpoints(whole_db), spans)
    with sqlite3.connect(whole_db) as conn:
        report["gaps"] = [list(row) for row in conn.execute("select start, end, reason from gaps")]
    report["unlisted_silent_speech_over_5s"] = unlisted_silent_speech(audio, whole_db)
    _summarise(report, runs, counts, spans, duration, partial)
    if resume:
        log("archive ingest, killed at 80% and resumed")
        resumed_db = folder / "resumed.db"
        report["resume"] = killed_and_resumed(audio, resumed_db, runs["archive"])
        report["resume"]["whole_vs_resumed"] = compare_runs(whole_db, resumed_db)
        # Decoding on a loaded CPU is not bit for bit the same twice: the baseline.
        log("archive ingest, whole, again")
        again_db = folder / "again.db"
        timed(ingest_command(audio, again_db))
        report["resume"]["whole_vs_whole_again"] = compare_runs(whole_db, again_db)
        _summarise(report, runs, counts, spans, duration, partial)
    for name, batch_size in (("plain_batched", 8), ("plain_sequential", 0)):
        log(f"{name} on {duration / 60:.0f} min")
        run = timed([sys.executable, "-c", PLAIN_WORKER, str(audio), str(batch_size)])
        counts[name] = words_per_clip(json.loads(run.pop("stdout")), spans)
        runs[name] = run
        _summarise(report, runs, counts, spans, duration, partial)
    return report


def _clip_total(counts: list[int], spans, clip: str) -> int:
    return sum(count for count, span in zip(counts, spans) if span[0] == clip)


def _summarise(report, runs, counts, spans, duration, partial: Path | None) -> None:
    for name, run in runs.items():
        run["words"] = sum(counts[name])
        run["real_time_factor"] = round(duration / run["seconds"], 2)
    report["runs"] = runs
    if "plain_batched" in runs:
        plain, ours = runs["plain_batched"], runs["archive"]
        report["archive_rtf_over_plain_batched"] = round(
            ours["real_time_factor"] / plain["real_time_factor"], 3
        )
        report["archive_cpu_speed_over_plain_batched"] = round(
            plain["cpu_seconds"] / ours["cpu_seconds"], 3
        )
    if "plain_sequential" in counts:
        report["words_per_clip"] = per_clip_table(counts, spans)
    else:
        report["words_per_clip_so_far"] = {
            name: {clip: _clip_total(found, spans, clip) for clip in CYCLE}
            for name, found in counts.items()
        }
    if partial is not None:
        partial.write_text(json.dumps(report, indent=2))


def memory(lengths: list[float], folder: Path) -> dict:
    report = {}
    for minutes in lengths:
        audio, spans = make_episode(folder, minutes)
        duration = spans[-1][2] + GAP
        log(f"archive ingest on {duration / 60:.0f} min")
        run = timed(ingest_command(audio, folder / f"memory-{minutes:g}.db"))
        run.pop("stdout")
        run["real_time_factor"] = round(duration / run["seconds"], 2)
        report[f"{minutes:g}_minutes"] = run
        audio.unlink()
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["recall", "memory"])
    parser.add_argument("--minutes", type=float, nargs="+", default=[90.0])
    parser.add_argument("--no-resume", action="store_true", help="recall: skip the kill test")
    parser.add_argument("--partial", type=Path, help="recall: write the report so far here")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        report = {"machine": {"cpus": os.cpu_count(), "load": os.getloadavg()[0]}}
        if options.what == "recall":
            report["recall"] = recall(
                options.minutes[0], folder, not options.no_resume, options.partial
            )
        else:
            report["memory"] = memory(options.minutes, folder)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
