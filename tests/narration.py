"""Narrated test episodes: espeak-ng reads headings and body text, with ads inserted.

Like a narrated article whose show notes were timed on the ad-free edit, the outline
states each heading's time *before* any ad was inserted; the truth is where the
heading is heard in the audio that the listener gets.
"""

from __future__ import annotations

import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .audio_tools import join_clips, write_wav

RATE = 16000
GAP = 0.9  # silence before each heading, as narrators leave

ARTICLE = [
    (
        "How the archive began",
        "It started with a simple wish. People wanted to find a sentence they had heard "
        "in a long conversation, without listening to the whole thing again. "
        "The first version was a folder of text files and a lot of patience.",
    ),
    (
        "Measuring what listeners need",
        "We asked listeners what they searched for. Most wanted a quotation, a name, or "
        "the moment a topic came up. Very few wanted the complete transcript at once.",
    ),
    (
        "A detour through railway timetables",
        "Timetables solved a similar problem a century ago. A traveller looks up a station "
        "and learns when the train arrives. Our chapters do the same for spoken ideas.",
    ),
    (
        "Why advertisements break chapter times",
        "Advertising servers insert clips before and inside an episode. Every chapter after "
        "an inserted clip starts later than the show notes claim, sometimes by minutes.",
    ),
    (
        "Hearing the headings instead",
        "A narrator reads each heading aloud. If the transcript contains the heading, the "
        "archive knows where the chapter really starts, whatever the notes say.",
    ),
    (
        "What remains to be done",
        "Interviews rarely announce their chapters, so their stated times must be trusted. "
        "Better models and better notes will both help in the years ahead.",
    ),
]
OPENING = "Welcome to this narrated article about searchable spoken archives. Let us begin."
AD_TEXT = (
    "This episode is brought to you by Cloud Kettle, the smart kettle that boils water "
    "exactly when you want tea. Visit cloud kettle dot example for ten percent off. "
)


@dataclass
class NarratedEpisode:
    audio: Path
    notes: str  # show notes with the outline timed on the ad-free edit
    headings_only_notes: str
    true_starts: list[float]  # where each heading is heard in the audio
    stated_starts: list[float]


def speak(text: str, folder: Path, name: str, words_per_minute: int = 165) -> np.ndarray:
    wav = folder / f"{name}.wav"
    subprocess.run(
        ["espeak-ng", "-v", "en-us", "-s", str(words_per_minute), "-w", str(wav), text],
        check=True,
    )
    with wave.open(str(wav)) as handle:
        rate = handle.getframerate()
        pcm = np.frombuffer(handle.readframes(handle.getnframes()), dtype="<i2")
    samples = pcm.astype(np.float32) / 32768
    # espeak-ng speaks at 22.05 kHz; a plain linear resample is enough for test speech.
    positions = np.arange(0, len(samples), rate / RATE)
    return np.interp(positions, np.arange(len(samples)), samples).astype(np.float32)


def onset(samples: np.ndarray, threshold: float = 0.02) -> float:
    """Seconds until the voice starts: espeak-ng begins each file with a little silence."""
    loud = np.flatnonzero(np.abs(samples) > threshold)
    return float(loud[0]) / RATE if len(loud) else 0.0


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * RATE), dtype=np.float32)


def make_episode(
    folder: Path,
    pre_roll: float = 0.0,
    mid_roll: float = 0.0,
    mid_roll_before: int = 3,
    name: str = "episode",
) -> NarratedEpisode:
    """An episode with ``pre_roll`` seconds of ad at the start and ``mid_roll`` seconds
    before chapter ``mid_roll_before`` (0-based)."""
    folder.mkdir(parents=True, exist_ok=True)
    ad = speak(AD_TEXT * 16, folder, "ad")  # about two and a half minutes
    assert len(ad) / RATE > max(pre_roll, mid_roll), "the ad recording is too short"
    parts = [ad[: int(pre_roll * RATE)]] if pre_roll else []
    pre_roll = sum(len(p) for p in parts) / RATE
    parts.append(speak(OPENING, folder, "opening"))
    clock_listened = sum(len(p) for p in parts) / RATE
    clock_stated = clock_listened - pre_roll
    true_starts, stated_starts = [], []
    for index, (heading, body) in enumerate(ARTICLE):
        if mid_roll and index == mid_roll_before:
            parts.append(ad[-int(mid_roll * RATE) :])
            clock_listened += len(parts[-1]) / RATE
        parts.append(silence(GAP))
        clock_listened += GAP
        clock_stated += GAP
        section = speak(f"{heading}. {body}", folder, f"section{index}")
        true_starts.append(round(clock_listened + onset(section), 3))
        stated_starts.append(round(clock_stated + onset(section), 3))
        parts.append(section)
        clock_listened += len(section) / RATE
        clock_stated += len(section) / RATE
    parts.append(silence(1.0))
    audio = write_wav(folder / f"{name}.wav", np.concatenate(parts))
    return NarratedEpisode(
        audio=audio,
        notes=_show_notes(stated_starts),
        headings_only_notes=_show_notes(None),
        true_starts=true_starts,
        stated_starts=stated_starts,
    )


def _show_notes(stated_starts: list[float] | None) -> str:
    lines = ["A narrated article about searchable spoken archives.", "---", "Outline:"]
    for index, (heading, _) in enumerate(ARTICLE):
        if stated_starts is None:
            lines.append(heading)
        else:
            whole = int(stated_starts[index])  # show notes state whole seconds
            lines.append(f"({whole // 60:02d}:{whole % 60:02d}) {heading}")
    lines += ["---", "Narrated by espeak-ng."]
    return "\n".join(lines) + "\n"


UNSPOKEN_TITLES = {
    "jfk.flac": "An inaugural challenge",
    "sonnet-p001.mp3": "First of the procreation sonnets",
    "sonnet-p002.mp3": "Forty winters and a field",
    "sonnet-p003.mp3": "The mirror and the mother",
}


def readings_with_unspoken_titles(corpus: Path, folder: Path) -> tuple[Path, str]:
    """Corpus readings joined into one episode, with show notes whose chapter titles are
    never said aloud (as in most interviews): alignment must move nothing."""
    audio = folder / "readings.wav"
    spans = join_clips([corpus / clip for clip in UNSPOKEN_TITLES], audio)
    notes = "\n".join(
        f"({int(start) // 60:02d}:{int(start) % 60:02d}) {title}"
        for title, (start, _) in zip(UNSPOKEN_TITLES.values(), spans)
    )
    return audio, notes
