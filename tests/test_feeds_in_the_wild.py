"""Feeds as real hosts publish them: relative and padded enclosure URLs, Podlove Simple
Chapters, a guid used twice, control characters in titles."""

import json
import sqlite3

from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.feed import parse_feed

from .conftest import CORPUS
from .test_cli_feed import CountingTranscriber

PODLOVE = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:psc="http://podlove.org/simple-chapters"
     xmlns:atom="http://www.w3.org/2005/Atom">
<channel>
  <title>Freie Sendung</title>
  <atom:link rel="self" type="application/rss+xml" href="https://example.org/podcast/feed.xml"/>
  <item>
    <title>Folge 7</title>
    <guid isPermaLink="false">fs-007</guid>
    <enclosure url="
      media/fs007.mp3" length="1000" type="audio/mpeg"/>
    <psc:chapters version="1.2">
      <psc:chapter start="00:00:00.000" title="Begr\xc3\xbc\xc3\x9fung"/>
      <psc:chapter start="01:30.5" title="Nachrichten" href="https://example.org/news"
                   image="https://example.org/news.jpg"/>
      <psc:chapter start="1:02:03" title="Ausblick"/>
      <psc:chapter start="soon" title="Kaputt"/>
    </psc:chapters>
  </item>
</channel>
</rss>
"""


def test_podlove_simple_chapters_are_read():
    [item] = parse_feed(PODLOVE, "feed.xml").items
    outline = item.psc_chapters
    assert outline.source == "psc"
    assert [(e.start, e.title) for e in outline.entries] == [
        (0.0, "Begrüßung"),
        (90.5, "Nachrichten"),
        (3723.0, "Ausblick"),
    ]
    assert outline.entries[1].links == {
        "url": "https://example.org/news",
        "img": "https://example.org/news.jpg",
    }
    assert outline.warnings == [
        "feed.xml item 1 psc:chapter 4: cannot read the start 'soon'; rejected"
    ]


def test_relative_enclosure_resolves_against_the_feed_address():
    [item] = parse_feed(PODLOVE, "feed.xml", base_url="https://cdn.example.org/f/rss").items
    assert item.enclosure_url == "https://cdn.example.org/f/media/fs007.mp3"
    # Read from a file, the feed's own self link is the address to resolve against.
    [item] = parse_feed(PODLOVE, "feed.xml").items
    assert item.enclosure_url == "https://example.org/podcast/media/fs007.mp3"


def test_control_characters_in_titles_are_removed():
    feed = PODLOVE.replace(b"<title>Folge 7</title>", b"<title>Folge&#x1b;[2J 7\x07</title>")
    feed = feed.replace(b"<title>Freie Sendung</title>", b"<title>Freie\x1b[31m Sendung</title>")
    parsed = parse_feed(feed, "feed.xml")
    [item] = parsed.items
    assert (parsed.title, item.title, item.show) == (
        "Freie[31m Sendung",
        "Folge[2J 7",
        "Freie[31m Sendung",
    )


def item_xml(guid, enclosure, title):
    return f"""<item><title>{title}</title><guid isPermaLink="false">{guid}</guid>
      <enclosure url="{enclosure}" length="1000" type="audio/flac"/></item>"""


def feed_xml(*items):
    return f"""<?xml version="1.0" encoding="UTF-8"?>
    <rss version="2.0" xmlns:psc="http://podlove.org/simple-chapters"><channel>
    <title>Loopback \x1b[2J Radio</title>{"".join(items)}</channel></rss>""".encode()


def test_feed_with_relative_enclosures_podlove_chapters_and_a_reused_guid(
    run_cli, http_server, monkeypatch, tmp_path, db_path
):
    monkeypatch.setenv("ARCHIVE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr("pipeline.cli.Transcriber", CountingTranscriber)
    files = http_server.files
    files["audio/jfk.flac"] = (CORPUS / "jfk.flac").read_bytes()
    files["audio/jfk-again.flac"] = (CORPUS / "jfk.flac").read_bytes()
    chapters = (
        '<psc:chapters version="1.2"><psc:chapter start="0" title="Fellow Americans"/>'
        '<psc:chapter start="00:05" title="Ask not"/></psc:chapters>'
    )
    files["show/feed.xml"] = feed_xml(
        item_xml("ep-1", "../audio/jfk.flac", "First \x1b]0;pwned\x07red").replace(
            "</item>", chapters + "</item>"
        ),
        item_xml("ep-1", " ../audio/jfk-again.flac", "Republished"),
        item_xml("ep-1", "../audio/jfk.flac", "Listed twice"),
    )
    # color=True: what a terminal would get (click keeps its own styles, and would
    # pass any escape sequence a feed carries).
    result = CliRunner().invoke(
        cli, ["feed", http_server.url("show/feed.xml"), "-q", "--db", db_path], color=True
    )
    assert result.exit_code == 0, result.stderr
    assert "\x1b]0;" not in result.stderr and "\x1b[2J" not in result.stderr
    assert "\x07" not in result.stderr
    stored = result.stdout.split()
    assert stored[0] == "ep-1" and stored[1].startswith("ep-1#") and len(stored) == 2
    assert "item 2 'Republished': the same guid as item 1 ('ep-1')" in result.stderr
    assert "item 3 'Listed twice': the same guid and audio as item 1; skipped" in result.stderr
    db = sqlite3.connect(db_path)
    titles = db.execute("select title from chapters where episode_id = 'ep-1' order by position")
    assert [row[0] for row in titles] == ["Fellow Americans", "Ask not"]
    assert db.execute("select outline_source from episodes where id = 'ep-1'").fetchone() == (
        "psc",
    )
    listed = json.loads(run_cli("episodes", "--json").stdout)
    assert {episode["title"] for episode in listed} == {"First ]0;pwnedred", "Republished"}
