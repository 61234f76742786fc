"""Exports as captioning practice and the Podcasting 2.0 spec want them: cues of at most
two 42-character lines, none of zero length, speakers as voices, chapters with their
images, links and places; and a round trip through a feed that keeps all of it."""

import json
from pathlib import Path

import jsonschema
import pytest
import srt
import webvtt

from db.read import load_episode
from db.schema import open_archive
from db.store import store_episode
from pipeline.audio import read_audio
from pipeline.records import Outline, OutlineEntry, Transcript

from .conftest import CORPUS, aligned, make_segment
from .test_cli_feed import TRANSCRIPT_TYPES, reimport_through_a_feed

SCHEMAS = Path(__file__).parent / "schemas"
SARAH = (
    "When you first get started in podcasting it is almost guaranteed that you are going "
    "to make a handful of rookie mistakes but that does not mean you have to make all the "
    "mistakes end"
)  # 181 characters, one segment, said from 0.1 s; its last word lands on 4.0 s
TRAVIS = (
    "Creating good audio is really key to keeping your listeners engaged because no matter "
    "how good the content is bad audio turns them away"
)
LOCATION = {"name": "Harbour, Hamburg", "geo": "geo:53.5413,9.9841"}


def interview():
    audio, _ = read_audio(CORPUS / "jfk.flac")
    sarah = make_segment(SARAH, 0.1, 3.9 / (len(SARAH.split()) - 1))
    sarah.words[-1].start = sarah.words[-1].end = sarah.end = 4.0  # across the chapter start
    travis = make_segment(TRAVIS, 4.3, 0.27)
    sarah.speaker, travis.speaker = "Sarah", "Travis"
    outline = Outline(
        entries=[
            OutlineEntry("Rookie mistakes", 0.0, links={"url": "https://example.com/rookie"}),
            OutlineEntry("Good audio", 4.0, links={"img": "https://example.com/mic.jpg"}),
            OutlineEntry("", 7.0, hidden=True, links={"location": LOCATION}),
        ],
        source="chapters-json",
    )
    transcript = Transcript([sarah, travis], "en", audio.duration, "publisher:json")
    episode, _ = aligned("interview", "Ten mistakes", audio, transcript, outline)
    return episode


@pytest.fixture
def archived(db_path):
    db = open_archive(db_path)
    store_episode(db, interview())
    return load_episode(db, "interview")


def exported(run_cli, file_format):
    result = run_cli("export", "interview", "--format", file_format)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def test_the_episode_has_the_cases_that_failed(archived):
    zero = [s for c in archived.chapters for s in c.segments if s.end == s.start]
    assert len(zero) == 1 and zero[0].text == "end"  # the word across the chapter start
    assert max(len(s.text) for c in archived.chapters for s in c.segments) > 170


def test_webvtt_cues_are_short_timed_and_voiced(run_cli, archived):
    document = webvtt.from_string(exported(run_cli, "vtt"), strict=True)
    cues = document.captions
    assert len(cues) == 5  # 181 characters in three cues, 131 in two
    for cue in cues:
        assert 1 <= len(cue.lines) <= 2 and all(len(line) <= 42 for line in cue.text.split("\n"))
        assert cue.end_time.in_milliseconds() > cue.start_time.in_milliseconds()
    assert {cue.voice for cue in cues} == {"Sarah", "Travis"}
    words = " ".join(cue.text.replace("\n", " ") for cue in cues).split()
    assert words == (SARAH + " " + TRAVIS).split()
    # Cues of a word-timed segment start at their first word.
    starts = {cue.start_time.in_milliseconds() / 1000 for cue in cues}
    word_starts = {
        round(w.start, 3) for c in archived.chapters for s in c.segments for w in s.words
    }
    assert starts <= word_starts | {0.1}


def test_srt_cues_are_short_and_name_the_speaker_where_it_changes(run_cli, archived):
    cues = list(srt.parse(exported(run_cli, "srt")))
    for cue in cues:
        lines = cue.content.split("\n")
        assert 1 <= len(lines) <= 2 and all(len(line) <= 42 for line in lines)
        assert cue.end > cue.start
    named = [
        cue.content.split(":")[0] for cue in cues if cue.content.startswith(("Sarah:", "Travis:"))
    ]
    assert named == ["Sarah", "Travis"]


def test_json_exports_carry_speakers_and_chapter_links(run_cli, archived):
    transcript = json.loads(exported(run_cli, "json"))
    jsonschema.validate(
        transcript, json.loads((SCHEMAS / "podcast-transcript.schema.json").read_text())
    )
    assert {s["speaker"] for s in transcript["segments"]} == {"Sarah", "Travis"}
    chapters = json.loads(exported(run_cli, "chapters"))
    jsonschema.validate(
        chapters, json.loads((SCHEMAS / "podcast-chapters.schema.json").read_text())
    )
    assert chapters["chapters"][0]["url"] == "https://example.com/rookie"
    assert chapters["chapters"][1]["img"] == "https://example.com/mic.jpg"
    assert chapters["chapters"][2] == {
        "startTime": 7.0,
        "endTime": 11.0,
        "toc": False,
        "location": LOCATION,
    }


def test_round_trip_keeps_text_times_speakers_and_chapters(
    run_cli, archived, http_server, tmp_path, monkeypatch
):
    monkeypatch.setenv("ARCHIVE_CACHE", str(tmp_path / "cache"))
    reimport_through_a_feed(
        run_cli, http_server, lambda kind: exported(run_cli, kind), tmp_path / "second.db"
    )
    db = open_archive(tmp_path / "second.db")
    original = [s for c in archived.chapters for s in c.segments]
    for kind in TRANSCRIPT_TYPES:
        again = load_episode(db, f"again-{kind}")
        assert [(c.title, c.start, c.end, c.hidden, c.links) for c in again.chapters] == [
            (c.title, c.start, c.end, c.hidden, c.links) for c in archived.chapters
        ], kind
        segments = [s for c in again.chapters for s in c.segments]
        assert " ".join(s.text for s in segments).split() == (SARAH + " " + TRAVIS).split()
        assert {s.speaker for s in segments} == {"Sarah", "Travis"}, kind
        sarah = [s for s in segments if s.speaker == "Sarah"]
        travis = [s for s in segments if s.speaker == "Travis"]
        assert sarah[0].start == pytest.approx(original[0].start, abs=0.01), kind
        assert travis[-1].end == pytest.approx(original[-1].end, abs=0.01), kind
        assert travis[0].start == pytest.approx(4.3, abs=0.01), kind
        assert all(s.end > s.start for s in segments if kind != "json"), kind
