"""`archive export`: every file checked by an independent parser (webvtt-py, srt, the
Podcasting 2.0 JSON schemas), read back by the archive's own importer, and round-tripped
through a feed into a second archive."""

import hashlib
import html
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
from pipeline.chapters_json import parse_chapters_json
from pipeline.publisher_transcripts import parse_transcript
from pipeline.records import Outline, OutlineEntry, Transcript

from .conftest import CORPUS, aligned, make_segment
from .test_cli_feed import TRANSCRIPT_TYPES, reimport_through_a_feed

SCHEMAS = Path(__file__).parent / "schemas"
# Each segment lies inside one visible chapter (a hidden one holds none); the last has none.
TEXTS = [
    (0.25, "And so my fellow Americans,"),
    (3.141, "ask not <what> your country & its --> arrows"),
    (5.5, "can do — naïvely, café."),
    (6.9, "ask what you can do"),
    (8.6, "for your country."),
]
CHAPTERS = [
    OutlineEntry("Opening", 0.0),
    OutlineEntry("Ask not --> then", 3.0),
    OutlineEntry("A silent marker", 6.8, hidden=True),
    OutlineEntry("For your country", 8.5),
    OutlineEntry("Nothing said here", 10.8),
]


def kennedy_episode(episode_id="kennedy", title="Ask not & more"):
    audio, _ = read_audio(CORPUS / "jfk.flac")
    segments = [make_segment(text, start, 0.25) for start, text in TEXTS]
    transcript = Transcript(segments, "en", audio.duration, "fake")
    outline = Outline(
        entries=[OutlineEntry(e.title, e.start, e.hidden) for e in CHAPTERS], source="chapters-json"
    )
    episode, _ = aligned(episode_id, title, audio, transcript, outline)
    episode.show = "Loopback Radio"
    episode.published = "2024-01-05T08:00:00+00:00"
    return episode


@pytest.fixture
def archived(db_path):
    db = open_archive(db_path)
    store_episode(db, kennedy_episode())
    return load_episode(db, "kennedy")


def exported(run_cli, file_format, episode="kennedy"):
    result = run_cli("export", episode, "--format", file_format)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def spoken(episode):
    return [
        (round(s.start, 3), round(s.end, 3), s.text) for c in episode.chapters for s in c.segments
    ]


def test_the_stored_episode_is_what_the_exports_start_from(archived):
    assert [c.title for c in archived.chapters] == [e.title for e in CHAPTERS]
    assert [len(c.segments) for c in archived.chapters] == [1, 3, 0, 1, 0]
    assert archived.chapters[2].hidden and not archived.chapters[1].hidden
    assert archived.chapters[1].segments[0].words[0].word == " ask"


def test_webvtt_export_is_valid_and_announces_each_chapter(run_cli, archived):
    document = webvtt.from_string(exported(run_cli, "vtt"), strict=True)
    assert document.header_text == "- Ask not & more"  # what follows "WEBVTT"
    cues = [
        (c.start_time.in_milliseconds() / 1000, c.end_time.in_milliseconds() / 1000, c.text)
        for c in document.captions
    ]
    # A cue is at most two lines; the lines of one segment's cue read as its text.
    assert [(s, e, html.unescape(t).replace("\n", " ")) for s, e, t in cues] == spoken(archived)
    assert "&lt;what&gt; your country &amp; its --&gt;\narrows" in cues[1][2]
    notes = document.header_comments  # webvtt-py files the notes before the first cue here
    notes += [note for caption in document.captions for note in caption.comments]
    notes += document.footer_comments
    assert notes == [
        "Chapter 1 of 5: Opening (00:00:00.000 to 00:00:03.000)",
        "Chapter 2 of 5: Ask not -> then (00:00:03.000 to 00:00:08.500)",
        "Chapter 3 of 5 (hidden): A silent marker (00:00:06.800 to 00:00:08.500)",
        "Chapter 4 of 5: For your country (00:00:08.500 to 00:00:10.800)",
        "Chapter 5 of 5: Nothing said here (00:00:10.800 to 00:00:11.000)",
    ]


def test_srt_export_is_valid(run_cli, archived):
    cues = list(srt.parse(exported(run_cli, "srt")))  # raises on anything malformed
    assert [cue.index for cue in cues] == [1, 2, 3, 4, 5]
    assert [
        (cue.start.total_seconds(), cue.end.total_seconds(), cue.content.replace("\n", " "))
        for cue in cues
    ] == spoken(archived)


def test_json_exports_match_the_podcasting_schemas(run_cli, archived):
    transcript = json.loads(exported(run_cli, "json"))
    schema = json.loads((SCHEMAS / "podcast-transcript.schema.json").read_text())
    jsonschema.validate(transcript, schema)
    assert transcript["version"] == "1.0.0"
    assert [(s["startTime"], s["endTime"], s["body"]) for s in transcript["segments"]] == spoken(
        archived
    )

    chapters = json.loads(exported(run_cli, "chapters"))
    jsonschema.validate(
        chapters, json.loads((SCHEMAS / "podcast-chapters.schema.json").read_text())
    )
    assert (chapters["title"], chapters["podcastName"]) == ("Ask not & more", "Loopback Radio")
    assert [(c["startTime"], c["title"], c.get("toc", True)) for c in chapters["chapters"]] == [
        (0.0, "Opening", True),
        (3.0, "Ask not --> then", True),
        (6.8, "A silent marker", False),
        (8.5, "For your country", True),
        (10.8, "Nothing said here", True),
    ]
    assert chapters["chapters"][-1]["endTime"] == 11.0


def test_the_schemas_reject_what_the_spec_does_not_allow():
    # The schemas must be able to fail, or validating against them proves nothing.
    transcript_schema = json.loads((SCHEMAS / "podcast-transcript.schema.json").read_text())
    chapters_schema = json.loads((SCHEMAS / "podcast-chapters.schema.json").read_text())
    for bad in [
        {"segments": []},
        {"version": "1.0.0", "segments": [{"startTime": "0", "body": ""}]},
    ]:
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, transcript_schema)
    for bad in [{"version": "1.2.0"}, {"version": "1.2.0", "chapters": [{"title": "no start"}]}]:
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, chapters_schema)


@pytest.mark.parametrize("kind", ["vtt", "srt", "json"])
def test_exports_read_back_as_the_same_segments(run_cli, archived, kind):
    transcript, warnings = parse_transcript(exported(run_cli, kind), kind, f"export.{kind}")
    assert warnings == []
    assert [(s.start, s.end, s.text) for s in transcript.segments] == spoken(archived)


def test_chapters_export_reads_back_as_the_same_outline(run_cli, archived):
    outline = parse_chapters_json(exported(run_cli, "chapters"))
    assert outline.warnings == []
    assert [(e.title, e.start, e.hidden) for e in outline.entries] == [
        (c.title, c.start, c.hidden) for c in archived.chapters
    ]


def test_markdown_and_text_read_like_a_transcript(run_cli, archived):
    markdown = exported(run_cli, "md")
    assert markdown.startswith("# Ask not & more\n\nLoopback Radio · 2024-01-05 · 0:11\n\n")
    headings = [line for line in markdown.splitlines() if line.startswith("## ")]
    # The hidden chapter is not a heading: its words stay under the chapter before it.
    assert headings == [
        "## [00:00] Opening",
        "## [00:03] Ask not --> then",
        "## [00:08] For your country",
        "## [00:10] Nothing said here",
    ]
    assert "[00:06] ask what you can do\n\n## [00:08] For your country" in markdown
    assert "[00:03] ask not <what> your country & its --> arrows" in markdown

    text = exported(run_cli, "txt")
    assert text.splitlines()[:5] == [
        "Ask not & more",
        "Loopback Radio · 2024-01-05 · 0:11",
        "",
        "[00:00] Opening",
        "---------------",
    ]
    assert "[00:00] And so my fellow Americans,\n\n[00:03] Ask not --> then" in text


def test_round_trip_through_a_feed_gives_the_same_segments_and_chapters(
    run_cli, archived, http_server, tmp_path, monkeypatch
):
    """Export, publish as a feed with the same audio, import into a second archive."""
    second = tmp_path / "second.db"
    monkeypatch.setenv("ARCHIVE_CACHE", str(tmp_path / "cache"))
    reimport_through_a_feed(run_cli, http_server, lambda kind: exported(run_cli, kind), second)
    db = open_archive(second)
    for kind in TRANSCRIPT_TYPES:
        again = load_episode(db, f"again-{kind}")
        assert again.transcript.model == f"publisher:{kind}"
        assert spoken(again) == spoken(archived), kind
        assert [(c.title, c.start, c.end, c.hidden) for c in again.chapters] == [
            (c.title, c.start, c.end, c.hidden) for c in archived.chapters
        ], kind
        assert [[s.text for s in c.segments] for c in again.chapters] == [
            [s.text for s in c.segments] for c in archived.chapters
        ], kind


def test_export_all_writes_one_file_per_episode(run_cli, db_path, tmp_path):
    db = open_archive(db_path)
    store_episode(db, kennedy_episode("https://example.com/?p=12", "From a feed"))
    store_episode(db, kennedy_episode("plain-id", "Plain"))
    folder = tmp_path / "out" / "md"
    result = run_cli("export", "--all", "--format", "md", folder)
    assert result.exit_code == 0, result.stderr
    written = sorted(path.name for path in folder.iterdir())
    # An id that had to change for the file system gets a hash of itself, so names stay apart.
    digest = hashlib.sha256(b"https://example.com/?p=12").hexdigest()[:8]
    assert written == [f"https_example.com_p_12-{digest}.md", "plain-id.md"]
    assert sorted(result.stdout.split()) == [str(folder / name) for name in written]
    assert (folder / "plain-id.md").read_text().startswith("# Plain\n")
    assert "wrote 2 files to" in result.stderr


def test_export_to_a_file(run_cli, archived, tmp_path):
    out = tmp_path / "kennedy.srt"
    result = run_cli("export", "kenn", "--format", "srt", "-o", out)
    assert result.exit_code == 0 and result.stdout == ""
    assert len(list(srt.parse(out.read_text()))) == 5


def test_export_errors_are_one_line(run_cli, archived, tmp_path):
    unknown = run_cli("export", "nobody", "--format", "vtt")
    assert unknown.exit_code == 1
    assert unknown.stderr.strip() == "Error: no episode matches 'nobody' (see: archive episodes)"
    both = run_cli("export", "--all", "--format", "vtt", tmp_path, "-o", tmp_path / "x.vtt")
    assert both.exit_code == 2 and "drop -o" in both.stderr
    (tmp_path / "a-file").write_text("")
    into_file = run_cli("export", "--all", "--format", "vtt", tmp_path / "a-file")
    assert into_file.exit_code == 1
    assert into_file.stderr.startswith(f"Error: {tmp_path / 'a-file'}: cannot make the folder")
    bad_format = run_cli("export", "kennedy", "--format", "docx")
    assert bad_format.exit_code == 2 and "'docx' is not one of" in bad_format.stderr
