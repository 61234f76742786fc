"""Chapter alignment on real speech: espeak-ng narrations with ads, the real model."""

import statistics

import pytest

from pipeline.align import describe_alignment
from pipeline.audio import read_audio
from pipeline.outline import parse_notes

from .conftest import CORPUS, aligned
from .narration import make_episode, readings_with_unspoken_titles

pytestmark = pytest.mark.slow
ADS = {
    "no ads": dict(pre_roll=0.0),
    "30 s pre-roll": dict(pre_roll=30.0),
    "90 s pre-roll": dict(pre_roll=90.0),
    "30 s pre-roll, 45 s mid-roll": dict(pre_roll=30.0, mid_roll=45.0),
}


@pytest.fixture(scope="module")
def narrated(tmp_path_factory, transcriber):
    """Each scenario generated and transcribed once: (episode, audio info, transcript)."""
    made = {}
    for name, ads in ADS.items():
        episode = make_episode(tmp_path_factory.mktemp("narrated"), **ads)
        audio, samples = read_audio(episode.audio)
        made[name] = (episode, audio, transcriber.transcribe(samples))
    return made


def heading_errors(narrated, notes_of):
    errors, offsets = [], {}
    for name, (episode, audio, transcript) in narrated.items():
        aligned_episode, _ = aligned(
            "x", "Episode", audio, transcript, parse_notes(notes_of(episode))
        )
        headed = [c for c in aligned_episode.chapters if c.title != "Episode"]
        assert len(headed) == len(episode.true_starts)
        errors += [
            (round(abs(c.start - truth), 3), name, c.title)
            for c, truth in zip(headed, episode.true_starts)
        ]
        offsets[name] = aligned_episode.outline_offset
    return errors, offsets


def test_timed_outline_moves_to_the_spoken_headings(narrated):
    errors, offsets = heading_errors(narrated, lambda episode: episode.notes)
    seconds = [error for error, _, _ in errors]
    assert statistics.median(seconds) <= 0.5, errors
    assert max(seconds) <= 1.5, errors
    assert offsets["no ads"] == pytest.approx(0, abs=1.5)
    assert offsets["30 s pre-roll"] == pytest.approx(30, abs=1.5)
    assert offsets["90 s pre-roll"] == pytest.approx(90, abs=1.5)
    assert offsets["30 s pre-roll, 45 s mid-roll"] == pytest.approx(30, abs=1.5)


def test_headings_only_outline_is_placed_as_accurately(narrated):
    errors, _ = heading_errors(narrated, lambda episode: episode.headings_only_notes)
    seconds = [error for error, _, _ in errors]
    assert statistics.median(seconds) <= 0.5, errors
    assert max(seconds) <= 1.5, errors


def test_confidence_and_stated_times_are_kept(narrated):
    episode, audio, transcript = narrated["90 s pre-roll"]
    aligned_episode, notes = aligned("x", "Ep", audio, transcript, parse_notes(episode.notes))
    headed = aligned_episode.chapters[1:]
    assert [c.stated_start for c in headed] == [int(s) for s in episode.stated_starts]
    assert all(0.5 <= c.confidence <= 1.0 for c in headed)
    assert "outline offset +90" in describe_alignment(aligned_episode)


def test_no_chapter_moves_when_headings_are_not_spoken(tmp_path, transcriber):
    path, notes = readings_with_unspoken_titles(CORPUS, tmp_path)
    audio, samples = read_audio(path)
    transcript = transcriber.transcribe(samples)
    episode, notes_out = aligned("x", "Readings", audio, transcript, parse_notes(notes))
    assert len(episode.chapters) == 4
    assert [c.start for c in episode.chapters] == [c.stated_start for c in episode.chapters]
    assert all(c.confidence is None for c in episode.chapters)
    assert episode.outline_offset == 0.0 and notes_out == []
