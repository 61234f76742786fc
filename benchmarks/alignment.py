"""Chapter-start accuracy on narrated episodes with inserted ads, printed as JSON.

    python benchmarks/alignment.py

Episodes are generated with espeak-ng (tests/narration.py): headings read aloud, the
outline timed on the ad-free edit, then 0, 30 or 90 s of pre-roll ad and optionally a
30 s mid-roll ad inserted. Each is transcribed once with the bundled model, then aligned
with its timed outline and with a headings-only outline. A control episode joined from
corpus clips (headings not spoken) checks that nothing moves.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.align import align_episode, plan_chapters  # noqa: E402
from pipeline.audio import read_audio  # noqa: E402
from pipeline.outline import parse_notes  # noqa: E402
from pipeline.transcribe import Transcriber  # noqa: E402
from tests.narration import make_episode, readings_with_unspoken_titles  # noqa: E402

SCENARIOS = {
    "mid-roll-60": dict(mid_roll=60.0),
    "no-ads": dict(pre_roll=0.0),
    "pre-roll-30": dict(pre_roll=30.0),
    "pre-roll-90": dict(pre_roll=90.0),
    "pre-roll-30-mid-roll-30": dict(pre_roll=30.0, mid_roll=30.0),
}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def aligned_starts(audio, transcript, notes: str) -> tuple[list, float, list]:
    outline = parse_notes(notes)
    chapters, _ = plan_chapters(outline, audio.duration, "Episode")
    episode, notes_out = align_episode("x", "Episode", audio, transcript, outline.source, chapters)
    headed = [c for c in episode.chapters if c.title != "Episode"]
    return headed, episode.outline_offset, notes_out


def errors(chapters, truth) -> list[float]:
    return [round(abs(c.start - t), 3) for c, t in zip(chapters, truth)]


def summary(errs: list[float]) -> dict:
    return {"median_s": round(statistics.median(errs), 3), "worst_s": max(errs), "errors": errs}


def headings_not_spoken(transcriber, folder: Path) -> dict:
    """Control: corpus readings whose chapter titles are never said. Nothing may move."""
    path, notes = readings_with_unspoken_titles(ROOT.parent / "shared" / "corpus", folder)
    audio, samples = read_audio(path)
    chapters, offset, _ = aligned_starts(audio, transcriber.transcribe(samples), notes)
    moved = [c.title for c in chapters if c.start != c.stated_start or c.confidence is not None]
    return {"chapters": len(chapters), "moved": len(moved), "outline_offset": offset}


def seed_scale() -> dict:
    """Speed and accuracy at the seed episode's size: 35 headings in an hour of words.

    The word stream is drawn from the seed page itself, so heading words are everywhere
    (the hardest case for the candidate filters); each heading is spoken 45 s after its
    stated time.
    """
    import random

    from pipeline.outline import read_notes
    from pipeline.records import AudioInfo, Segment, Transcript, Word

    seed = ROOT.parent / "shared" / "seeds" / "000_38943d2e2b459189.txt"
    outline = read_notes(seed)
    vocabulary = [w.strip(".,?:()") for w in seed.read_text().lower().split()]
    rng = random.Random(7)
    spoken = {entry.start + 45.0: entry.title for entry in outline.entries}
    words, clock = [], 0.0
    for heading_at in sorted(spoken) + [3900.0]:
        while clock < heading_at - 1.0:
            words.append(Word(clock, clock + 0.3, " " + rng.choice(vocabulary), 0.9))
            clock += 0.36
        if heading_at in spoken:
            clock = heading_at
            for text in spoken[heading_at].split():
                words.append(Word(clock, clock + 0.3, " " + text, 0.9))
                clock += 0.36
    segments = [Segment(w.start, w.end, w.word, [w]) for w in words]
    audio = AudioInfo("seed.wav", "0" * 64, 3900.0, 3900.0)
    transcript = Transcript(segments, "en", 3900.0, "synthetic")
    started = time.perf_counter()
    chapters, _ = plan_chapters(outline, 3900.0, "Episode")
    episode, _ = align_episode("x", "Episode", audio, transcript, outline.source, chapters)
    elapsed = time.perf_counter() - started
    errs = [abs(c.start - (c.stated_start + 45.0)) for c in episode.chapters[1:]]
    return {
        "words": len(words),
        "chapters": len(episode.chapters),
        "align_seconds": round(elapsed, 2),
        "outline_offset": episode.outline_offset,
        "chapters_within_0_5_s": sum(e <= 0.5 for e in errs),
    }


def main() -> None:
    transcriber = Transcriber()
    report = {}
    with tempfile.TemporaryDirectory() as name:
        for scenario, ads in SCENARIOS.items():
            log(f"{scenario}: generating and transcribing")
            episode = make_episode(Path(name) / scenario, **ads)
            audio, samples = read_audio(episode.audio)
            transcript = transcriber.transcribe(samples)
            timed, offset, _ = aligned_starts(audio, transcript, episode.notes)
            untimed, _, _ = aligned_starts(audio, transcript, episode.headings_only_notes)
            report[scenario] = {
                "outline_offset": offset,
                "timed_outline": summary(errors(timed, episode.true_starts)),
                "headings_only": summary(errors(untimed, episode.true_starts)),
                "confidence": [c.confidence for c in timed],
            }
        report["headings-not-spoken"] = headings_not_spoken(transcriber, Path(name))
    narrated = [report[scenario] for scenario in SCENARIOS]
    every_timed = [e for r in narrated for e in r["timed_outline"]["errors"]]
    every_untimed = [e for r in narrated for e in r["headings_only"]["errors"]]
    report["all"] = {
        "timed_outline": {k: v for k, v in summary(every_timed).items() if k != "errors"},
        "headings_only": {k: v for k, v in summary(every_untimed).items() if k != "errors"},
    }
    report["seed_scale"] = seed_scale()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
