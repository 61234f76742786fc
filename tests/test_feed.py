"""Reading RSS and Atom feeds into items (no network: the feed is bytes here)."""

import pytest

from pipeline.feed import FeedError, TranscriptLink, html_to_text, newest_items, parse_feed

RSS = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:podcast="https://podcastindex.org/namespace/1.0"
     xmlns:content="http://purl.org/rss/1.0/modules/content/"
     xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd">
<channel>
  <title>Spoken Things</title>
  <language>en-US</language>
  <item>
    <title>Episode two</title>
    <guid isPermaLink="false">urn:spoken:2</guid>
    <pubDate>Tue, 02 Jan 2024 10:00:00 +0100</pubDate>
    <description>A short description.</description>
    <content:encoded><![CDATA[<p>Longer notes.</p><ul><li>(00:00) Hello</li>
      <li>(05:32) How it started &amp; why</li></ul>]]></content:encoded>
    <enclosure url="https://cdn.example.com/two.mp3" length="123456" type="audio/mpeg"/>
    <podcast:transcript url="https://example.com/two.srt" type="application/x-subrip"
                        rel="captions"/>
    <podcast:transcript url="/two.json" type="application/json" language="es"/>
    <podcast:transcript url="https://example.com/two.html" type="text/html"/>
    <podcast:chapters url="https://example.com/two-chapters.json"
                      type="application/json+chapters"/>
  </item>
  <item>
    <title>A blog post with no audio</title>
    <guid>urn:spoken:post</guid>
  </item>
  <item>
    <title>Episode one</title>
    <enclosure url="https://cdn.example.com/one.mp3" length="not a number" type="audio/mpeg"/>
  </item>
</channel>
</rss>
"""


def test_rss_items_with_all_their_podcast_links():
    feed = parse_feed(RSS, "feed.xml", base_url="https://example.com/feed.xml")
    assert feed.title == "Spoken Things"
    assert feed.warnings == [
        "feed.xml item 2 'A blog post with no audio': no audio enclosure; skipped"
    ]
    two, one = feed.items
    assert (two.guid, two.title, two.show, two.language) == (
        "urn:spoken:2",
        "Episode two",
        "Spoken Things",
        "en",
    )
    assert two.published == "2024-01-02T09:00:00+00:00"
    assert (two.enclosure_url, two.enclosure_length, two.enclosure_type) == (
        "https://cdn.example.com/two.mp3",
        123456,
        "audio/mpeg",
    )
    assert two.chapters_url == "https://example.com/two-chapters.json"
    # feedparser alone keeps only the last of these three.
    assert two.transcripts == [
        TranscriptLink("https://example.com/two.srt", "application/x-subrip", None, "captions"),
        TranscriptLink("https://example.com/two.json", "application/json", "es", None),
        TranscriptLink("https://example.com/two.html", "text/html", None, None),
    ]
    assert two.description == "Longer notes.\n\n(00:00) Hello\n(05:32) How it started & why"


def test_an_item_without_a_guid_is_keyed_by_its_enclosure():
    one = parse_feed(RSS, "feed.xml").items[1]
    assert one.guid == "https://cdn.example.com/one.mp3"
    assert one.enclosure_length is None and one.published is None
    assert one.transcripts == [] and one.chapters_url is None


def test_atom_feed():
    atom = b"""<?xml version="1.0" encoding="utf-8"?>
    <feed xmlns="http://www.w3.org/2005/Atom" xmlns:podcast="https://podcastindex.org/namespace/1.0">
      <title>Atom Talks</title>
      <entry>
        <title>Talk one</title>
        <id>tag:example.com,2024:talk-1</id>
        <updated>2024-03-01T12:00:00Z</updated>
        <summary type="html">&lt;p&gt;0:00 Start&lt;br&gt;1:02:03 - Late&lt;/p&gt;</summary>
        <link rel="enclosure" href="https://example.com/talk1.ogg" type="audio/ogg" length="99"/>
        <podcast:transcript url="https://example.com/talk1.vtt" type="text/vtt"/>
      </entry>
    </feed>"""
    [talk] = parse_feed(atom, "atom.xml").items
    assert (talk.guid, talk.show, talk.published) == (
        "tag:example.com,2024:talk-1",
        "Atom Talks",
        "2024-03-01T12:00:00+00:00",
    )
    assert talk.enclosure_url == "https://example.com/talk1.ogg"
    assert talk.description == "0:00 Start\n1:02:03 - Late"
    assert [link.url for link in talk.transcripts] == ["https://example.com/talk1.vtt"]


def test_a_malformed_feed_is_still_read_with_the_links_feedparser_keeps():
    broken = RSS.replace(b"<title>Episode two</title>", b"<title>Episode two &nbsp; </title>")
    feed = parse_feed(broken, "feed.xml")
    assert feed.warnings[0] == (
        "feed.xml: not well-formed XML; read leniently, seeing only the last "
        "podcast:transcript of each item"
    )
    two = feed.items[0]
    assert two.title == "Episode two"
    assert [link.url for link in two.transcripts] == ["https://example.com/two.html"]
    assert two.chapters_url == "https://example.com/two-chapters.json"


@pytest.mark.parametrize("content", [b"<html><body>Not a feed</body></html>", b"", b"\x00\x01"])
def test_not_a_feed(content):
    with pytest.raises(FeedError, match=r"^page: not an RSS or Atom feed"):
        parse_feed(content, "page")


def test_newest_items_by_date_with_undated_ones_last():
    feed = parse_feed(RSS, "feed.xml")
    two, one = feed.items
    assert newest_items([one, two], 1) == [two]
    assert newest_items([one, two], 5) == [two, one]
    assert newest_items([one, two], None) == [one, two]


def test_html_to_text_keeps_lines():
    assert html_to_text("<p>A &amp; B</p><p>(01:00)&nbsp;Next<br/>(02:00) Last</p>") == (
        "A & B\n\n(01:00) Next\n(02:00) Last"
    )
    assert html_to_text("plain 1 &lt; 2") == "plain 1 < 2"


def test_the_namespace_uri_that_early_feeds_declare():
    early = RSS.replace(
        b"https://podcastindex.org/namespace/1.0",
        b"https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/1.0.md",
    )
    two = parse_feed(early, "feed.xml").items[0]
    assert len(two.transcripts) == 3 and two.chapters_url.endswith("two-chapters.json")
