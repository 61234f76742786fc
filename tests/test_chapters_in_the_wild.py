"""Chapters files as the Podcasting 2.0 spec's own complex example has them, stored with
their links and hidden markers, and the warnings kept beside the episode."""

import json
from pathlib import Path

import pytest

from pipeline.align import align_episode, plan_chapters
from pipeline.chapters_json import parse_chapters_json, read_chapters_json
from pipeline.outline import OutlineError, parse_notes
from pipeline.records import AudioInfo, Transcript

from .conftest import CORPUS, make_segment

COMPLEX = Path(__file__).parent / "fixtures" / "chapters-complex.json"


def test_spec_complex_example_needs_no_fixing():
    outline = read_chapters_json(COMPLEX)
    chapters, warnings = plan_chapters(outline, 6500.0, "Episode 12")
    assert warnings == []
    hidden = [c for c in chapters if c.hidden]
    assert [(c.title, c.start) for c in hidden] == [("", 4826.0)]
    assert hidden[0].links["location"]["name"] == "Harbour, Hamburg"
    support = next(c for c in chapters if c.title == "Support the show")
    assert (support.start, support.end) == (4600.0, 5510.0)  # runs on past the marker
    assert chapters[2].links == {
        "img": "https://example.com/images/crdt.jpg",
        "url": "https://example.com/crdt",
    }


def test_speech_during_a_hidden_marker_belongs_to_the_visible_chapter():
    outline = read_chapters_json(COMPLEX)
    audio = AudioInfo("x.mp3", "0" * 64, 6500.0, None)
    chapters, _ = plan_chapters(outline, audio.duration, "Episode 12")
    segments = [make_segment("still supporting the show", 4900.0)]
    episode, _ = align_episode(
        "e", "E", audio, Transcript(segments, "en", 6500, "x"), "x", chapters
    )
    by_title = {c.title: len(c.segments) for c in episode.chapters}
    assert by_title["Support the show"] == 1 and by_title[""] == 0


def test_strict_ingest_accepts_the_spec_shape_and_chapters_show_hidden(
    run_cli, fake_transcriber, tmp_path
):
    document = json.loads(COMPLEX.read_text())
    for chapter in document["chapters"]:
        chapter["startTime"] = chapter["startTime"] / 1000  # to fit the 11 s clip
    path = tmp_path / "chapters.json"
    path.write_text(json.dumps(document))
    result = run_cli("ingest", CORPUS / "jfk.flac", "--chapters", path, "--strict", "--id", "jfk")
    assert result.exit_code == 0, result.stderr
    table = run_cli("chapters", "jfk")
    hidden_rows = [line for line in table.stdout.splitlines() if "[hidden]" in line]
    assert len(hidden_rows) == 1 and "0:04.8" in hidden_rows[0]
    listed = json.loads(run_cli("chapters", "jfk", "--json").stdout)
    assert [c["hidden"] for c in listed].count(True) == 1
    exported = json.loads(run_cli("export", "jfk", "--format", "chapters").stdout)
    marker = next(c for c in exported["chapters"] if c.get("toc") is False)
    assert "title" not in marker and marker["location"]["geo"] == "geo:53.5413,9.9841"
    assert exported["chapters"][2]["img"] == "https://example.com/images/crdt.jpg"


async def test_warnings_are_stored_summarised_and_shown_by_datasette(
    run_cli, fake_transcriber, tmp_path, db_path
):
    notes = tmp_path / "notes.txt"
    notes.write_text("\n".join(f"(00:{s:02d}) Part {s}" for s in range(10, 0, -1)))
    result = run_cli("ingest", CORPUS / "jfk.flac", "--notes", notes, "--id", "jfk")
    assert result.exit_code == 0, result.stderr
    assert "6 more chapters out of time order" in result.stderr
    table = run_cli("chapters", "jfk")
    assert "4 warnings when it was ingested:" in table.stderr
    assert "6 more chapters out of time order" in table.stderr
    from db.serve import build_datasette

    datasette = build_datasette(db_path)
    response = await datasette.client.get(
        "/archive/warnings.json?episode_id=jfk&_sort=position&_shape=array"
    )
    assert response.status_code == 200
    rows = response.json()
    assert len(rows) == 4 and rows[3]["message"] == "6 more chapters out of time order"


def test_reingest_replaces_the_warnings(run_cli, fake_transcriber, tmp_path, db_path):
    import sqlite_utils

    notes = tmp_path / "notes.txt"
    notes.write_text("(00:05) B\n(00:02) A\n")
    run_cli("ingest", CORPUS / "jfk.flac", "--notes", notes, "--id", "jfk")
    notes.write_text("(00:02) A\n(00:05) B\n")
    run_cli("ingest", CORPUS / "jfk.flac", "--notes", notes, "--id", "jfk")
    assert sqlite_utils.Database(db_path)["warnings"].count == 0
    assert "warning" not in run_cli("chapters", "jfk").stderr


def test_huge_chapters_file_is_one_clear_line(run_cli, tmp_path, db_path):
    path = tmp_path / "chapters.json"
    item = '{"startTime": 1, "title": "x"},'
    path.write_text('{"version": "1.2.0", "chapters": [' + item * 380_000 + "{}]}")
    result = run_cli("ingest", CORPUS / "jfk.flac", "--chapters", path)
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"Error: {path}: 11.2 MiB; chapters files over 10 MiB are not read"
    ]


def test_too_many_chapters_in_json_is_one_clear_error():
    items = ",".join('{"startTime": %d}' % n for n in range(10_001))
    with pytest.raises(OutlineError, match="10,001 chapters; at most 10,000 are read"):
        parse_chapters_json('{"version": "1.2.0", "chapters": [%s]}' % items, "c.json")


def test_an_untitled_visible_chapter_is_still_named_with_a_warning():
    outline = parse_chapters_json(
        '{"version":"1.2.0","chapters":[{"startTime":0},{"startTime":5}]}'
    )
    chapters, warnings = plan_chapters(outline, 10.0, "E")
    assert [c.title for c in chapters] == ["Chapter 1", "Chapter 2"]
    assert len(warnings) == 2


def test_notes_chapters_are_unchanged_by_hidden_rules():
    chapters, _ = plan_chapters(parse_notes("(00:00) A\n(00:05) B\n"), 10.0, "E")
    assert [(c.start, c.end) for c in chapters] == [(0, 5), (5, 10)]


def test_an_untitled_hidden_marker_moves_with_the_outline_and_is_not_checked():
    outline = parse_chapters_json(
        json.dumps(
            {
                "version": "1.2.0",
                "chapters": [
                    {"startTime": 10, "title": "Sync engines explained"},
                    {"startTime": 20, "toc": False, "img": "https://example.com/a.jpg"},
                    {"startTime": 30, "title": "Conflict free replicated types"},
                ],
            }
        )
    )
    audio = AudioInfo("x.mp3", "0" * 64, 60.0, None)
    segments = [
        make_segment("Hello and welcome to the show everyone.", 1.0),
        make_segment("Sync engines explained. They keep copies in step.", 15.0),
        make_segment("Conflict free replicated types. They merge.", 35.0),
    ]
    chapters, _ = plan_chapters(outline, audio.duration, "E")
    episode, _ = align_episode("e", "E", audio, Transcript(segments, "en", 60, "x"), "x", chapters)
    assert episode.outline_offset == 5.0
    marker = next(c for c in episode.chapters if c.hidden)
    assert (marker.start, marker.confidence) == (25.0, None)
