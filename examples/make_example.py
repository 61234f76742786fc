"""Make the bundled example episode: a short narrated article read by espeak-ng.

Like the narrated articles the archive is built for, it speaks each heading aloud, and
its show notes (in the seed page's format) state when each heading starts.

    python examples/make_example.py    # writes narrated-archive.mp3 and its notes
"""

import subprocess
import tempfile
from pathlib import Path

HERE = Path(__file__).parent
TITLE = "Why keep a spoken archive"
SECTIONS = [
    (
        None,
        "Why keep a spoken archive. A narrated essay about searching what was said. "
        "Podcasts, talks and narrated articles hold a great deal of knowledge, "
        "but almost none of it can be searched.",
    ),
    (
        "The problem with listening",
        "Listening is slow. When you remember that a guest explained something clever, "
        "you cannot find the moment again without playing the whole episode. "
        "Show notes help a little, because they list the chapters and their times.",
    ),
    (
        "Transcripts and full text search",
        "A transcript turns speech into words that a computer can index. "
        "With full text search, a phrase such as a unilateral pause "
        "leads straight to the sentence where it was spoken, and to its time.",
    ),
    (
        "Chapters you can trust",
        "Published chapter times are often wrong, because advertisements are inserted "
        "before the episode starts. When the narrator reads each heading aloud, "
        "the transcript itself shows where every chapter really begins.",
    ),
    (
        "Sharing the archive",
        "The archive is a single database file. Anyone can open it read only in a browser, "
        "search it, and jump to the moment a sentence was said.",
    ),
]
GAP_SECONDS = 0.8


def speak(text: str, wav: Path) -> float:
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "160", "-w", str(wav), text], check=True)
    out = subprocess.run(["soxi", "-D", str(wav)], check=True, capture_output=True, text=True)
    return float(out.stdout)


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        parts, outline, clock = [], [], 0.0
        for index, (heading, body) in enumerate(SECTIONS):
            text = f"{heading}. {body}" if heading else body
            wav = Path(folder) / f"{index:02d}.wav"
            duration = speak(text, wav)
            if heading:
                outline.append(f"({int(clock) // 60:02d}:{int(clock) % 60:02d}) {heading}")
            parts.append(str(wav))
            silence = Path(folder) / f"{index:02d}-gap.wav"
            subprocess.run(
                [
                    "sox",
                    "-n",
                    "-r",
                    "22050",
                    "-c",
                    "1",
                    str(silence),
                    "trim",
                    "0",
                    str(GAP_SECONDS),
                ],
                check=True,
            )
            parts.append(str(silence))
            clock += duration + GAP_SECONDS
        joined = Path(folder) / "joined.wav"
        subprocess.run(["sox", *parts, str(joined)], check=True)
        subprocess.run(
            [
                "ffmpeg",
                "-loglevel",
                "error",
                "-y",
                "-i",
                str(joined),
                "-ac",
                "1",
                "-b:a",
                "48k",
                "-metadata",
                f"title={TITLE}",
                str(HERE / "narrated-archive.mp3"),
            ],
            check=True,
        )
    notes = [
        f"{TITLE}",
        "A narrated essay about why spoken audio deserves a searchable archive.",
        "---",
        "Outline:",
        *outline,
        "---",
        "Narrated by espeak-ng.",
    ]
    (HERE / "narrated-archive-notes.txt").write_text("\n".join(notes) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
