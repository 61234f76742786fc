"""Where chapters come from: Podcasting 2.0 JSON, show notes, or the audio file itself."""

import json
import sqlite3

import pytest

from pipeline.align import plan_chapters
from pipeline.chapters_json import chapters_json, parse_chapters_json
from pipeline.embedded_chapters import read_embedded_chapters
from pipeline.outline import OutlineError, parse_notes

from .audio_tools import ffmpeg
from .conftest import CORPUS

FFMETADATA = """;FFMETADATA1
[CHAPTER]
TIMEBASE=1/1000
START=0
END=4000
title=Part one
[CHAPTER]
TIMEBASE=1/1000
START=4000
END=11000
title=Part two
"""


@pytest.fixture
def with_chapters(tmp_path):
    """jfk as mp3 (ID3 CHAP/CTOC) and m4a (MP4 chapters), both with two chapters."""
    metadata = tmp_path / "chapters.txt"
    metadata.write_text(FFMETADATA)
    made = {}
    for suffix, codec in (("mp3", "libmp3lame"), ("m4a", "aac")):
        out = tmp_path / f"jfk.{suffix}"
        ffmpeg(
            "-i",
            str(CORPUS / "jfk.flac"),
            "-i",
            str(metadata),
            "-map",
            "0:a",
            "-map_chapters",
            "1",
            "-c:a",
            codec,
            str(out),
        )
        made[suffix] = out
    return made


def test_json_chapters_are_read_with_hidden_ones_kept():
    outline = parse_chapters_json(
        json.dumps(
            {
                "version": "1.2.0",
                "chapters": [
                    {"startTime": 0, "title": "Intro"},
                    {"startTime": 94.5, "title": "Sponsor", "toc": False, "endTime": 120},
                    {
                        "startTime": 120,
                        "title": "Main",
                        "url": "https://example.com",
                        "img": "x.png",
                    },
                ],
            }
        ),
        "c.json",
    )
    assert outline.source == "chapters-json" and outline.warnings == []
    assert [(e.start, e.title, e.hidden) for e in outline.entries] == [
        (0, "Intro", False),
        (94.5, "Sponsor", True),
        (120, "Main", False),
    ]


@pytest.mark.parametrize(
    "text, message",
    [
        ("{not json", r"c\.json: not valid JSON \(line 1 column 2"),
        ("[1, 2]", r'c\.json: expected an object with a "chapters" list'),
        ('{"chapters": {"startTime": 1}}', r'expected an object with a "chapters" list'),
    ],
)
def test_malformed_json_chapters_are_one_clear_error(text, message):
    with pytest.raises(OutlineError, match=message):
        parse_chapters_json(text, "c.json")


def test_bad_json_chapters_say_which_and_what_was_done():
    outline = parse_chapters_json(
        json.dumps(
            {
                "chapters": [
                    {"startTime": 10, "title": "Fine"},
                    {"title": "No time"},
                    "just a string",
                    {"startTime": -5, "title": "Negative"},
                    {"startTime": 30},
                ]
            }
        ),
        "c.json",
    )
    assert [e.title for e in outline.entries] == ["Fine", "Negative", ""]
    assert outline.warnings == [
        'c.json: no "version"; read as Podcasting 2.0 chapters 1.2.0',
        'c.json chapter 2: "startTime" missing or not a number (None); rejected',
        "c.json chapter 3: not an object; rejected",
        'c.json chapter 4: negative "startTime" (-5); moved to 0',
    ]
    chapters, warnings = plan_chapters(outline, 60, "E")
    assert "c.json chapter 5: empty title; named 'Chapter 3'" in warnings
    assert any("'Negative' at 0:00 comes after 'Fine'" in w and "sorted" in w for w in warnings)


def test_written_chapters_read_back():
    chapters, _ = plan_chapters(parse_notes("(00:00) A\n(00:30) B"), 60, "E")
    chapters[1].hidden = True
    document = chapters_json(chapters)
    back = parse_chapters_json(json.dumps(document))
    assert [(e.start, e.title, e.hidden) for e in back.entries] == [
        (0, "A", False),
        (30, "B", True),
    ]


def test_embedded_chapters_in_mp3_and_m4a(with_chapters):
    id3 = read_embedded_chapters(with_chapters["mp3"])
    assert id3.source == "id3"
    assert [(e.start, e.title) for e in id3.entries] == [(0.0, "Part one"), (4.0, "Part two")]
    mp4 = read_embedded_chapters(with_chapters["m4a"])
    assert mp4.source == "embedded"
    assert [(e.start, e.title) for e in mp4.entries] == [(0.0, "Part one"), (4.0, "Part two")]
    assert read_embedded_chapters(CORPUS / "jfk.flac") is None


def test_headings_only_notes():
    outline = parse_notes("Outline:\n- How it began\n- What went wrong\n---\nCredits")
    assert outline.source == "notes-headings"
    assert [(e.title, e.start) for e in outline.entries] == [
        ("How it began", None),
        ("What went wrong", None),
    ]
    assert parse_notes("One heading\nAnother heading\nA third?").source == "notes-headings"
    prose = "This is a sentence.\nAnd another one here.\nShort line"
    assert parse_notes(prose).entries == []


def chapters_of(db_path):
    db = sqlite3.connect(db_path)
    return db.execute(
        "select episodes.outline_source, group_concat(chapters.title, '|') from episodes "
        "join chapters on chapters.episode_id = episodes.id group by episodes.id"
    ).fetchall()


def test_cli_prefers_chapters_json_then_notes_then_embedded(
    run_cli, fake_transcriber, with_chapters, tmp_path, db_path
):
    notes = tmp_path / "notes.txt"
    notes.write_text("(00:00) From the notes\n(00:05) Notes again\n")
    chapters = tmp_path / "chapters.json"
    chapters.write_text(
        json.dumps(
            {
                "version": "1.2.0",
                "chapters": [
                    {"startTime": 0, "title": "From JSON"},
                    {"startTime": 6, "title": "JSON again"},
                ],
            }
        )
    )
    audio = with_chapters["mp3"]
    both = run_cli("ingest", audio, "--chapters", chapters, "--notes", notes, "--id", "a")
    assert both.exit_code == 0 and "timestamps in" in both.stderr
    assert run_cli("ingest", audio, "--notes", notes, "--id", "b").exit_code == 0
    assert run_cli("ingest", audio, "--id", "c").exit_code == 0
    assert chapters_of(db_path) == [
        ("chapters-json", "From JSON|JSON again"),
        ("notes", "From the notes|Notes again"),
        ("id3", "Part one|Part two"),
    ]


def test_cli_malformed_chapters_json_is_one_error_line(run_cli, fake_transcriber, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"chapters": [')
    result = run_cli("ingest", CORPUS / "jfk.flac", "--chapters", bad)
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"Error: {bad}: not valid JSON (line 1 column 15: Expecting value)"
    ]


def test_strict_refuses_an_outline_that_needed_fixing(run_cli, fake_transcriber, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("(00:05) B\n(00:02) A\n")
    strict = run_cli("ingest", CORPUS / "jfk.flac", "--notes", notes, "--strict")
    assert strict.exit_code == 1
    assert "not ingested (--strict): 1 outline problem, the first: notes line 2" in strict.stderr
    assert "transcribed" not in strict.stderr
    lenient = run_cli("ingest", CORPUS / "jfk.flac", "--notes", notes, "--json")
    assert lenient.exit_code == 0 and "Warning: notes line 2: 'A' at 0:02" in lenient.stderr
    assert json.loads(lenient.stdout)[0]["chapters"] == 3
