"""Archives for the web tests: fake transcripts on real SQLite files, with real audio."""

from __future__ import annotations

import importlib.util
import shutil

from db.schema import open_archive
from db.store import store_episode
from pipeline.audio import file_sha256
from pipeline.outline import parse_notes
from pipeline.records import AudioInfo, Transcript

from .conftest import PROJECT_ROOT, aligned, make_segment
from .test_store import fake_episode

EXAMPLE_AUDIO = PROJECT_ROOT / "examples" / "narrated-archive.mp3"  # 71 s of speech

# Segments start at 2, 22 and 42 s (fake_episode); chapters at 0, 20 and 40 s.
TALK = (
    "Opening words about the archive, with a pause for breath.",
    "With full text search, a unilateral pause leads straight to the unilateral pause "
    "where it was spoken.",
    "A unilateral decision, then a long pause <script>alert('x')</script> and more.",
)
# Two sentences in the opening chapter: a phrase can run from one into the next.
KENNEDY = (
    (2.0, "And so my fellow Americans, ask not what your country can do for you."),
    (9.0, "Ask what you can do for your country."),
    (22.0, "Country after country, the country was quiet."),
    (42.0, "The end of the speech."),
)
THREE_CHAPTERS = "(00:00) Opening\n(00:20) Middle\n(00:40) End"


def timed_episode(episode_id, timed_texts, notes=THREE_CHAPTERS, audio_url=None):
    """An aligned episode saying each text at its time (seconds) in a 60 s recording."""
    segments = [make_segment(text, start) for start, text in timed_texts]
    audio = AudioInfo(f"{episode_id}.mp3", "ab" * 32, 60.0, 60.0)
    transcript = Transcript(segments, "en", 60.0, "fake")
    outline = parse_notes(notes)
    episode, _ = aligned(episode_id, f"Title {episode_id}", audio, transcript, outline)
    episode.audio_url = audio_url
    return episode


def talk_with_audio(folder, episode_id="talk", texts=TALK, audio_url=None):
    """An episode whose audio is a real mp3 copied into ``folder``."""
    audio = folder / f"{episode_id}.mp3"
    shutil.copyfile(EXAMPLE_AUDIO, audio)
    episode = fake_episode(episode_id, texts=texts)
    episode.audio.path = str(audio)
    episode.audio.sha256 = file_sha256(audio)
    episode.audio_url = audio_url
    return episode


def build_archive(path, *episodes) -> None:
    db = open_archive(path)
    for episode in episodes:
        store_episode(db, episode)
    db.close()


def load_plugin(name: str):
    """A module from plugins/, imported the way Datasette's --plugins-dir loads it."""
    spec = importlib.util.spec_from_file_location(name, PROJECT_ROOT / "plugins" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
