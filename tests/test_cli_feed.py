"""`archive feed` against a real HTTP server on 127.0.0.1: a feed with publisher transcripts,
chapters files (one malformed), a broken enclosure and items that need speech recognition."""

import hashlib
import json
import shutil
import sqlite3

import pytest

from .conftest import CORPUS, FakeTranscriber

JFK_SRT = """1
00:00:00,000 --> 00:00:03,500
And so my fellow Americans,

2
00:00:03,500 --> 00:00:08,000
ask not what your country can do for you,

3
00:00:08,000 --> 00:00:11,000
ask what you can do for your country.
"""
SONNET_JSON = {
    "version": "1.0.0",
    "segments": [
        {"startTime": 1.0, "endTime": 9.5, "body": "From fairest creatures we desire increase,"},
        {
            "startTime": 22.0,
            "endTime": 30.0,
            "body": "But thou contracted to thine own bright eyes,",
        },
        {"startTime": 44.0, "endTime": 51.0, "body": "Pity the world, or else this glutton be,"},
    ],
}
SONNET_2_NOTES = "<p>Forty winters.</p><ul><li>(00:00) Besiege</li><li>(00:25) Thy beauty</li></ul>"
SONNET_CHAPTERS = {
    "version": "1.2.0",
    "chapters": [
        {"startTime": 0, "title": "Increase"},
        {"startTime": 20, "title": "Contracted"},
        {"startTime": 40, "title": "Pity the world"},
    ],
}


class CountingTranscriber(FakeTranscriber):
    calls = 0

    def transcribe(self, samples, **kwargs):
        CountingTranscriber.calls += 1
        return super().transcribe(samples, **kwargs)


@pytest.fixture
def feed_cli(run_cli, monkeypatch, tmp_path):
    """``archive feed`` with the fake model and an audio cache inside the test's folder."""
    monkeypatch.setenv("ARCHIVE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr("pipeline.cli.Transcriber", CountingTranscriber)
    CountingTranscriber.calls = 0
    return run_cli


def item(guid, enclosure, day, *, notes="", chapters=None, transcripts=(), title=None):
    links = "".join(f'<podcast:transcript url="{url}" type="{mime}"/>' for url, mime in transcripts)
    if chapters:
        links += f'<podcast:chapters url="{chapters}" type="application/json+chapters"/>'
    return f"""<item>
      <title>{title or guid.title()}</title>
      <guid isPermaLink="false">{guid}</guid>
      <pubDate>{day:02d} Jan 2024 08:00:00 GMT</pubDate>
      <description><![CDATA[{notes}]]></description>
      <enclosure url="{enclosure}" length="1000" type="audio/mpeg"/>
      {links}
    </item>"""


def rss(*items):
    return f"""<?xml version="1.0" encoding="UTF-8"?>
    <rss version="2.0" xmlns:podcast="https://podcastindex.org/namespace/1.0">
    <channel><title>Loopback Radio</title><language>en-us</language>
    {"".join(items)}
    </channel></rss>""".encode()


TRANSCRIPT_TYPES = {"vtt": "text/vtt", "srt": "application/x-subrip", "json": "application/json"}


def reimport_through_a_feed(run_cli, http_server, export, second_db) -> None:
    """Publish jfk.flac with exported chapters and each kind of exported transcript as a
    feed (one item per kind, guid ``again-<kind>``), and ingest it into ``second_db``.
    ``export(kind)`` gives the exported text."""
    files, url = http_server.files, http_server.url
    files["jfk.flac"] = (CORPUS / "jfk.flac").read_bytes()
    files["chapters.json"] = export("chapters").encode()
    for kind in TRANSCRIPT_TYPES:
        files[f"transcript.{kind}"] = export(kind).encode()
    files["feed.xml"] = rss(
        *[
            item(
                f"again-{kind}",
                url("jfk.flac"),
                1,
                chapters=url("chapters.json"),
                transcripts=[(url(f"transcript.{kind}"), mime)],
            )
            for kind, mime in TRANSCRIPT_TYPES.items()
        ]
    )
    result = run_cli("feed", url("feed.xml"), "--db", second_db)
    assert result.exit_code == 0, result.stderr


def with_id3_chapters(source, out):
    """A copy of an MP3 with ID3 chapters, as podcast tools write them."""
    from mutagen.id3 import CHAP, CTOC, ID3, TIT2, CTOCFlags

    shutil.copy(source, out)
    tags = ID3()  # the corpus file has no tag yet
    for element, start, end, title in [
        ("c1", 0, 26000, "First half"),
        ("c2", 26000, 53000, "Second half"),
    ]:
        frame = CHAP(
            element_id=element, start_time=start, end_time=end, sub_frames=[TIT2(text=[title])]
        )
        tags.add(frame)
    flags = CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED
    tags.add(CTOC(element_id="toc", flags=flags, child_element_ids=["c1", "c2"], sub_frames=[]))
    tags.save(out)
    return out


def rows(db_path, sql, *params):
    db = sqlite3.connect(db_path)
    db.row_factory = sqlite3.Row
    return [dict(row) for row in db.execute(sql, params)]


def lines_starting(text, prefix):
    return [line for line in text.splitlines() if line.startswith(prefix)]


@pytest.fixture
def podcast(http_server, tmp_path):
    """The feed of the issue: five items, each taking a different road."""
    files = http_server.files
    files["jfk.flac"] = (CORPUS / "jfk.flac").read_bytes()
    files["jfk.srt"] = JFK_SRT.encode()
    files["jfk.html"] = b"<p>And so my fellow Americans...</p>"
    files["sonnet1.mp3"] = (CORPUS / "sonnet-p001.mp3").read_bytes()
    files["sonnet1.json"] = json.dumps(SONNET_JSON).encode()
    files["sonnet1-chapters.json"] = json.dumps(SONNET_CHAPTERS).encode()
    files["sonnet2.mp3"] = (CORPUS / "sonnet-p002.mp3").read_bytes()
    files["sonnet2-chapters.json"] = b'{"version": "1.2.0", "chapters": [{"startTime": 0,'
    chaptered = with_id3_chapters(CORPUS / "sonnet-p003.mp3", tmp_path / "sonnet3.mp3")
    files["sonnet3.mp3"] = chaptered.read_bytes()
    url = http_server.url
    files["feed.xml"] = rss(
        item(
            "ask-not",
            url("jfk.flac"),
            5,
            transcripts=[(url("jfk.srt"), "application/x-subrip"), (url("jfk.html"), "text/html")],
        ),
        item(
            "sonnet-1",
            url("sonnet1.mp3"),
            4,
            chapters=url("sonnet1-chapters.json"),
            transcripts=[(url("sonnet1.json"), "application/json")],
        ),
        item("missing", url("nowhere.mp3"), 3),
        item(
            "sonnet-2",
            url("sonnet2.mp3"),
            2,
            notes=SONNET_2_NOTES,
            chapters=url("sonnet2-chapters.json"),
        ),
        item("sonnet-3", url("sonnet3.mp3"), 1, notes="A sonnet, read aloud."),
    )
    return http_server


def test_feed_ingests_each_item_by_its_own_road(feed_cli, podcast, db_path):
    result = feed_cli("feed", podcast.url("feed.xml"))
    assert result.exit_code == 1
    assert lines_starting(result.stderr, "Error:") == [
        f"Error: missing: {podcast.url('nowhere.mp3')}: HTTP 404 Not Found",
        "Error: 1 of 5 items could not be ingested",
    ]
    assert "Traceback" not in result.stderr
    assert result.stdout.split() == ["ask-not", "sonnet-1", "sonnet-2", "sonnet-3"]
    assert CountingTranscriber.calls == 2  # the two items without a publisher transcript

    episodes = {row["id"]: row for row in rows(db_path, "select * from episodes")}
    assert {key: (row["model"], row["outline_source"]) for key, row in episodes.items()} == {
        "ask-not": ("publisher:srt", "none"),
        "sonnet-1": ("publisher:json", "chapters-json"),
        "sonnet-2": ("fake", "notes"),
        "sonnet-3": ("fake", "id3"),
    }
    ask_not = episodes["ask-not"]
    assert (ask_not["title"], ask_not["show"], ask_not["published"], ask_not["language"]) == (
        "Ask-Not",
        "Loopback Radio",
        "2024-01-05T08:00:00+00:00",
        "en",
    )
    assert ask_not["audio_url"] == podcast.url("jfk.flac")
    assert ask_not["audio_sha256"] == hashlib.sha256(podcast.files["jfk.flac"]).hexdigest()
    assert (
        episodes["sonnet-2"]["description"]
        == "Forty winters.\n\n(00:00) Besiege\n(00:25) Thy beauty"
    )


def test_publisher_transcripts_are_stored_as_given(feed_cli, podcast, db_path):
    feed_cli("feed", podcast.url("feed.xml"))
    segments = rows(
        db_path,
        "select segments.start, segments.end, segments.text, chapters.title as chapter "
        "from segments join chapters on chapters.id = segments.chapter_id "
        "where segments.episode_id = ? order by segments.position",
        "sonnet-1",
    )
    assert [(s["start"], s["end"], s["text"], s["chapter"]) for s in segments] == [
        (1.0, 9.5, SONNET_JSON["segments"][0]["body"], "Increase"),
        (22.0, 30.0, SONNET_JSON["segments"][1]["body"], "Contracted"),
        (44.0, 51.0, SONNET_JSON["segments"][2]["body"], "Pity the world"),
    ]
    jfk = rows(db_path, "select text from segments where episode_id = 'ask-not' order by position")
    assert [row["text"] for row in jfk] == [
        "And so my fellow Americans,",
        "ask not what your country can do for you,",
        "ask what you can do for your country.",
    ]
    assert rows(db_path, "select count(*) as n from words where episode_id = 'ask-not'") == [
        {"n": 0}
    ]


def test_malformed_chapters_are_reported_and_the_show_notes_used(feed_cli, podcast, db_path):
    result = feed_cli("feed", podcast.url("feed.xml"))
    bad = podcast.url("sonnet2-chapters.json")
    assert lines_starting(result.stderr, f"Warning: {bad}") == [
        f"Warning: {bad}: not valid JSON (line 1 column 51: Expecting property name "
        "enclosed in double quotes); "
        "chapters from the show notes or the audio instead"
    ]
    chapters = rows(
        db_path,
        "select title, start, stated_start from chapters where episode_id = 'sonnet-2' "
        "order by position",
    )
    assert chapters == [
        {"title": "Besiege", "start": 0.0, "stated_start": 0.0},
        {"title": "Thy beauty", "start": 25.0, "stated_start": 25.0},
    ]
    embedded = rows(db_path, "select title from chapters where episode_id = 'sonnet-3'")
    assert [row["title"] for row in embedded] == ["First half", "Second half"]


def test_rerun_ingests_only_new_items_and_retries_failed_ones(feed_cli, podcast, db_path):
    feed_cli("feed", podcast.url("feed.xml"))
    podcast.files["nowhere.mp3"] = podcast.files["jfk.flac"]
    podcast.requests.clear()
    again = feed_cli("feed", podcast.url("feed.xml"))
    assert again.exit_code == 0, again.stderr
    assert again.stdout.split() == ["missing"]
    assert "5 items, 4 already archived, 1 to ingest" in again.stderr
    fetched = {path for path, _ in podcast.requests}
    assert fetched == {"/feed.xml", "/nowhere.mp3"}  # nothing else was fetched again
    assert len(rows(db_path, "select id from episodes")) == 5

    nothing = feed_cli("feed", podcast.url("feed.xml"), "--json")
    assert nothing.exit_code == 0 and json.loads(nothing.stdout) == []


def test_limit_takes_the_newest_and_reingest_replaces(feed_cli, http_server, db_path):
    http_server.files["jfk.flac"] = (CORPUS / "jfk.flac").read_bytes()
    audio = http_server.url("jfk.flac")
    # Feed order is not date order.
    http_server.files["feed.xml"] = rss(
        item("middle", audio, 10), item("newest", audio, 20), item("oldest", audio, 1)
    )
    first = feed_cli("feed", http_server.url("feed.xml"), "--limit", "2", "--json")
    assert first.exit_code == 0, first.stderr
    assert [episode["id"] for episode in json.loads(first.stdout)] == ["newest", "middle"]
    assert "3 items, the newest 2 taken, 0 already archived, 2 to ingest" in first.stderr
    assert http_server.requested("jfk.flac") == [None]  # one download serves all three

    rest = feed_cli("feed", http_server.url("feed.xml"))
    assert rest.stdout.split() == ["oldest"]

    again = feed_cli("feed", http_server.url("feed.xml"), "--limit", "1", "--reingest")
    assert again.stdout.split() == ["newest"]
    assert len(rows(db_path, "select id from episodes")) == 3


def test_transcribe_flag_and_unreadable_transcripts_use_speech_recognition(
    feed_cli, http_server, db_path
):
    files, url = http_server.files, http_server.url
    files["jfk.flac"] = (CORPUS / "jfk.flac").read_bytes()
    files["jfk.srt"] = JFK_SRT.encode()
    files["broken.json"] = b'{"version": "1.0.0", "segments": "none"}'
    files["feed.xml"] = rss(
        item("given", url("jfk.flac"), 2, transcripts=[(url("jfk.srt"), "application/x-subrip")]),
        item(
            "broken",
            url("jfk.flac"),
            1,
            transcripts=[(url("gone.vtt"), "text/vtt"), (url("broken.json"), "application/json")],
        ),
        item("untimed", url("jfk.flac"), 1, transcripts=[(url("jfk.txt"), "text/plain")]),
    )
    result = feed_cli("feed", url("feed.xml"))
    assert result.exit_code == 0, result.stderr
    assert lines_starting(result.stderr, "Warning:") == [
        f'Warning: {url("broken.json")}: expected an object with a "segments" list',
        f"Warning: {url('gone.vtt')}: HTTP 404 Not Found",
        "Warning: broken: no publisher transcript could be read; transcribing the audio",
        "Warning: untimed: the publisher's transcript (text/plain) has no timings; transcribing",
    ]
    models = rows(db_path, "select id, model from episodes order by id")
    assert models == [
        {"id": "broken", "model": "fake"},
        {"id": "given", "model": "publisher:srt"},
        {"id": "untimed", "model": "fake"},
    ]

    forced = feed_cli("feed", url("feed.xml"), "--reingest", "--transcribe", "--limit", "1")
    assert forced.exit_code == 0
    assert rows(db_path, "select model from episodes where id = 'given'") == [{"model": "fake"}]


def test_a_cut_download_fails_the_item_and_resumes_next_time(
    feed_cli, http_server, db_path, tmp_path
):
    audio = (CORPUS / "sonnet-p001.mp3").read_bytes()
    http_server.files["sonnet.mp3"] = audio
    http_server.cut_short["sonnet.mp3"] = 100_000
    http_server.files["feed.xml"] = rss(item("sonnet", http_server.url("sonnet.mp3"), 1))
    cache = tmp_path / "my-cache"
    cut = feed_cli("feed", http_server.url("feed.xml"), "--cache", cache)
    assert cut.exit_code == 1
    [error, summary] = lines_starting(cut.stderr, "Error:")
    assert error.startswith(f"Error: sonnet: {http_server.url('sonnet.mp3')}: download failed (")
    assert error.endswith("100000 bytes kept, run again to resume")
    assert [path.suffix for path in cache.iterdir()] == [".part"]
    assert rows(db_path, "select id from episodes") == []

    del http_server.cut_short["sonnet.mp3"]
    resumed = feed_cli("feed", http_server.url("feed.xml"), "--cache", cache)
    assert resumed.exit_code == 0, resumed.stderr
    assert http_server.requested("sonnet.mp3") == [None, "bytes=100000-"]
    [episode] = rows(db_path, "select audio_path, audio_sha256 from episodes")
    assert episode["audio_sha256"] == hashlib.sha256(audio).hexdigest()
    assert episode["audio_path"].startswith(str(cache))


@pytest.mark.parametrize(
    "where, message",
    [
        ("missing.xml", "{url}: HTTP 404 Not Found"),
        ("page.html", "{url}: not an RSS or Atom feed"),
    ],
)
def test_a_feed_that_cannot_be_read_is_one_error(feed_cli, http_server, db_path, where, message):
    http_server.files["page.html"] = b"<html><body><p>Welcome!</p></body></html>"
    url = http_server.url(where)
    result = feed_cli("feed", url)
    assert result.exit_code == 1
    assert lines_starting(result.stderr, "Error:") == ["Error: " + message.format(url=url)]
    assert not __import__("os").path.exists(db_path)


def test_a_local_feed_file(feed_cli, http_server, tmp_path, db_path):
    http_server.files["jfk.flac"] = (CORPUS / "jfk.flac").read_bytes()
    local = tmp_path / "podcast.xml"
    local.write_bytes(rss(item("local", http_server.url("jfk.flac"), 1)))
    assert feed_cli("feed", local).stdout.split() == ["local"]
    missing = feed_cli("feed", tmp_path / "nope.xml")
    assert lines_starting(missing.stderr, "Error:") == [
        f"Error: {tmp_path / 'nope.xml'}: cannot read the feed (No such file or directory)"
    ]


@pytest.mark.slow
def test_feed_item_transcribed_by_the_real_model(
    run_cli, http_server, transcriber, monkeypatch, tmp_path
):
    monkeypatch.setattr("pipeline.cli.Transcriber", lambda **kwargs: transcriber)
    http_server.files["jfk.flac"] = (CORPUS / "jfk.flac").read_bytes()
    http_server.files["feed.xml"] = rss(item("jfk", http_server.url("jfk.flac"), 1))
    result = run_cli("feed", http_server.url("feed.xml"), "--cache", tmp_path / "cache", "--json")
    assert result.exit_code == 0, result.stderr
    [stored] = json.loads(result.stdout)
    assert stored["id"] == "jfk" and stored["segments"] >= 1
    [hit] = json.loads(run_cli("search", '"fellow Americans"', "--json").stdout)
    assert hit["episode_id"] == "jfk" and hit["start"] < 4.0
