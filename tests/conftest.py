import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.records import Segment, Transcript, Word

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHARED = PROJECT_ROOT.parent / "shared"
CORPUS = SHARED / "corpus"
SEED_PAGE = SHARED / "seeds" / "000_38943d2e2b459189.txt"
ARTIFACTS = PROJECT_ROOT / "test-artifacts"


@pytest.fixture
def db_path(tmp_path):
    """A fresh archive file per test."""
    return str(tmp_path / "archive.db")


@pytest.fixture(scope="session")
def transcriber():
    """The real bundled model, loaded once for the whole run."""
    from pipeline.transcribe import Transcriber

    return Transcriber()


@pytest.fixture
def run_cli(db_path, monkeypatch):
    """Run ``archive`` in-process against this test's archive; stdout and stderr apart."""
    monkeypatch.setenv("ARCHIVE_DB", db_path)
    monkeypatch.delenv("NO_COLOR", raising=False)

    def run(*args):
        return CliRunner().invoke(cli, [str(arg) for arg in args], catch_exceptions=False)

    return run


def aligned(episode_id, title, audio, transcript, outline):
    """Plan the outline's chapters and align the transcript to them, as ingest does."""
    from pipeline.align import align_episode, plan_chapters

    chapters, _ = plan_chapters(outline, audio.duration, title)
    return align_episode(episode_id, title, audio, transcript, outline.source, chapters)


def words_from_text(text: str, start: float, seconds_per_word: float = 0.4) -> list[Word]:
    """Evenly timed words for fake transcripts."""
    words = []
    for index, token in enumerate(text.split()):
        begin = start + index * seconds_per_word
        words.append(Word(begin, begin + seconds_per_word * 0.8, " " + token, 0.9))
    return words


def make_segment(text: str, start: float, seconds_per_word: float = 0.4) -> Segment:
    words = words_from_text(text, start, seconds_per_word)
    return Segment(words[0].start, words[-1].end, text, words, -0.2, 0.01)


class FakeTranscriber:
    """Stands in for the model in fast CLI tests: 'says' a fixed text per second of audio."""

    def __init__(self, *args, **kwargs):
        self.name = "fake"

    def transcribe(self, samples, *, language=None, batch_size=0, on_progress=None, offset=0.0):
        duration = len(samples) / 16000
        segments = []
        for second in range(0, int(duration) - 1, 2):
            segments.append(make_segment(f"word{second} and more words here.", second, 0.3))
            if on_progress:
                on_progress(second + 2)
        return Transcript(segments, "en", duration, "fake", elapsed=0.01)


@pytest.fixture
def fake_transcriber(monkeypatch):
    monkeypatch.setattr("pipeline.cli.Transcriber", FakeTranscriber)
    return FakeTranscriber


@pytest.fixture(scope="session")
def artifacts_dir():
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def pytest_report_header(config):
    return f"shared test data: {SHARED}"


def pytest_sessionstart(session):
    if not CORPUS.is_dir():
        raise pytest.UsageError(
            f"the shared test data is missing: expected {CORPUS} (../shared beside the project)"
        )


os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture
def http_server():
    """A real HTTP server on 127.0.0.1 serving what the test puts in ``files``."""
    from .http_server import FileServer

    server = FileServer().start()
    yield server
    server.stop()
