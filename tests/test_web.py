"""The shared archive in Datasette, in-process: canned queries, rendering, audio, hardening."""

import hashlib
import re
import sqlite3
import time
import urllib.parse

import pytest

from db.schema import open_archive
from db.search import search_segments
from db.serve import build_datasette

from .web_archive import KENNEDY, build_archive, load_plugin, talk_with_audio, timed_episode

CDN_URL = "https://cdn.example.com/kennedy.mp3"


@pytest.fixture
def archive(tmp_path):
    """`my-talks.db`: a talk with a local mp3, and a speech whose audio has a public URL."""
    path = tmp_path / "my-talks.db"
    build_archive(
        path, talk_with_audio(tmp_path), timed_episode("kennedy", KENNEDY, audio_url=CDN_URL)
    )
    return path


@pytest.fixture
def ds(archive):
    return build_datasette(archive)


@pytest.fixture
def local_audio(archive):
    db = open_archive(archive)
    row = db.execute("select audio_sha256, audio_path from episodes where id = 'talk'").fetchone()
    db.close()
    return f"/-/audio/{row[0]}.mp3", row[1]


async def json_rows(ds, path, **params):
    response = await ds.client.get(
        f"{path}?{urllib.parse.urlencode({**params, '_shape': 'array'})}"
    )
    assert response.status_code == 200, response.text
    return response.json()


async def run_sql(ds, sql):
    return await ds.client.get("/my-talks.json?" + urllib.parse.urlencode({"sql": sql}))


# The canned queries


async def test_search_ranks_hits_best_first_with_marked_snippets(ds):
    rows = await json_rows(ds, "/my-talks/search.json", q="unilateral pause")
    assert [(row["chapter_title"], row["start"]) for row in rows] == [
        ("Middle", 22.0),
        ("End", 42.0),
    ]
    assert rows[0]["rank"] < rows[1]["rank"]
    assert rows[0]["episode_title"] == "Title talk" and rows[0]["episode_id"] == "talk"
    assert rows[0]["snippet"].startswith(
        "With full text search, a <mark>unilateral</mark> <mark>pause"
    )


async def test_search_page_renders_highlights_and_time_links(ds, local_audio):
    html = (await ds.client.get("/my-talks/search?q=unilateral+pause")).text
    results = html.split('<table class="rows-and-columns">')[1]
    first_row = results.split('<td class="col-episode_title">')[1]
    link = f'<a class="archive-time" href="{local_audio[0]}#t=22" title="22 s">[00:22]</a>'
    assert link in first_row
    assert "a <mark>unilateral</mark> <mark>pause</mark> leads" in first_row
    assert "&lt;mark&gt;" not in results


async def test_search_time_links_use_the_public_audio_url_when_there_is_one(ds):
    html = (await ds.client.get("/my-talks/search?q=%22ask+not%22")).text
    assert f'href="{CDN_URL}#t=2"' in html


@pytest.mark.parametrize(
    "query", ["unilateral pause", '"unilateral pause"', "countr*", "country NOT ask", "RSP v3.0"]
)
async def test_search_agrees_with_the_cli_search(ds, archive, query):
    rows = await json_rows(ds, "/my-talks/search.json", q=query)
    hits = search_segments(open_archive(archive), query)
    assert [(r["episode_id"], r["start"], r["snippet"]) for r in rows] == [
        (h["episode_id"], h["start"], h["snippet"]) for h in hits
    ]


async def test_an_empty_search_shows_the_form_without_an_error(ds):
    response = await ds.client.get("/my-talks/search")
    assert response.status_code == 200
    assert 'name="q"' in response.text and "Search what was said" in response.text
    assert await json_rows(ds, "/my-talks/search.json", q="  ") == []


async def test_chapter_search_finds_a_phrase_that_runs_across_two_segments(ds):
    phrase = '"can do for you ask what you"'  # the end of one sentence, the start of the next
    assert await json_rows(ds, "/my-talks/search.json", q=phrase) == []
    rows = await json_rows(ds, "/my-talks/chapter_search.json", q=phrase)
    assert [(row["episode_id"], row["chapter_title"]) for row in rows] == [("kennedy", "Opening")]
    assert "<mark>can do for you. Ask what you</mark>" in rows[0]["snippet"]


async def test_chapter_search_matches_chapter_titles_too(ds):
    rows = await json_rows(ds, "/my-talks/chapter_search.json", q="end")
    assert [(row["episode_id"], row["chapter_title"]) for row in rows] == [
        ("kennedy", "End"),  # in the title and the text
        ("talk", "End"),  # in the title only
    ]
    assert rows[1]["snippet"] == "<mark>End</mark>"


async def test_outline_lists_one_episodes_chapters_with_durations_and_words(ds, local_audio):
    rows = await json_rows(ds, "/my-talks/outline.json", episode="talk")
    assert [(r["position"], r["title"], r["start"], r["duration"]) for r in rows] == [
        (0, "Opening", 0.0, 20.0),
        (1, "Middle", 20.0, 20.0),
        (2, "End", 40.0, 20.0),
    ]
    assert [r["words"] for r in rows] == [10, 17, 10]
    html = (await ds.client.get("/my-talks/outline?episode=talk")).text
    assert f'href="{local_audio[0]}#t=20"' in html
    assert '<span title="20.0 s">0:20</span>' in html


async def test_any_file_name_gets_the_canned_queries_and_descriptions(tmp_path):
    path = tmp_path / "Talks_2024.db"
    build_archive(path, timed_episode("kennedy", KENNEDY))
    ds = build_datasette(path)
    assert await json_rows(ds, "/Talks_2024/search.json", q="quiet")
    database = (await ds.client.get("/Talks_2024.json")).json()
    assert {"search", "chapter_search", "outline"} <= {q["name"] for q in database["queries"]}
    html = (await ds.client.get("/Talks_2024")).text
    assert "Start with the search query below" in html and 'href="/Talks_2024/search"' in html


# Tables and rows


async def test_chapter_rows_have_a_player_for_the_chapter(ds, local_audio):
    html = (await ds.client.get("/my-talks/chapters/2")).text  # the talk's "Middle"
    player = f'<audio controls preload="none" src="{local_audio[0]}#t=20,40"></audio>'
    assert f"Middle<br>{player}" in html
    assert f'href="{local_audio[0]}#t=20"' in html  # start, and stated_start


async def test_episode_rows_have_a_player(ds, local_audio):
    html = (await ds.client.get("/my-talks/episodes/talk")).text
    assert f'Title talk<br><audio controls preload="none" src="{local_audio[0]}">' in html
    html = (await ds.client.get("/my-talks/episodes/kennedy")).text
    assert f'<audio controls preload="none" src="{CDN_URL}">' in html


async def test_tables_have_descriptions_sorts_and_facets(ds):
    page = (await ds.client.get("/my-talks/segments.json?_facet=episode_id")).json()
    assert page["human_description_en"] == "sorted by id"
    facets = page["facet_results"]
    labels = {v["label"] for v in facets["episode_id"]["results"]}
    assert labels == {"Title talk", "Title kennedy"}
    html = (await ds.client.get("/my-talks/segments")).text
    assert "chapter_id" in html and "Sentence-sized stretches" in html
    metadata = (await ds.client.get("/-/metadata.json")).json()
    assert metadata["databases"]["my-talks"]["tables"]["segments"]["facets"] == [
        "episode_id",
        "chapter_id",
    ]


async def test_markup_in_titles_and_transcripts_is_shown_as_text(tmp_path):
    episode = talk_with_audio(tmp_path)
    episode.title = "<b>Bold</b> talk"
    episode.chapters[2].title = '<img src=x onerror="alert(1)">'
    build_archive(tmp_path / "my-talks.db", episode)
    ds = build_datasette(tmp_path / "my-talks.db")
    pages = [
        (await ds.client.get(path)).text
        for path in (
            "/my-talks/search?q=decision",
            "/my-talks/chapter_search?q=decision",
            "/my-talks/chapters",
            "/my-talks/episodes",
            "/my-talks/segments?_search=decision",
            "/",
            "/-/search?q=decision",
            "/-/search?q=onerror",  # the chapter title matches
            "/-/episode/talk",
        )
    ]
    for html in pages:
        assert "<script>alert(" not in html and "<img src=x" not in html and "<b>Bold" not in html
    assert "&lt;script&gt;alert(" in pages[0]
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;<br><audio" in pages[2]
    assert "&lt;b&gt;Bold&lt;/b&gt; talk" in pages[5]
    assert "&lt;script&gt;alert(" in pages[6] and "&lt;b&gt;Bold&lt;/b&gt; talk" in pages[6]
    assert "&lt;img src=x <mark>onerror</mark>=&#34;alert(1)&#34;&gt;" in pages[7]
    assert "&lt;script&gt;alert(" in pages[8] and "&lt;img src=x onerror=" in pages[8]


async def test_an_audio_url_that_is_not_http_is_never_a_link(tmp_path):
    build_archive(tmp_path / "my-talks.db", talk_with_audio(tmp_path, audio_url="javascript:x()"))
    ds = build_datasette(tmp_path / "my-talks.db")
    for path in ("/my-talks/chapters", "/my-talks/search?q=pause"):
        html = (await ds.client.get(path)).text
        assert "javascript:" not in html
        assert 'class="archive-time" href="/-/audio/' in html  # its local file instead


async def test_times_of_an_episode_without_audio_are_text_not_dead_links(tmp_path):
    build_archive(tmp_path / "my-talks.db", talk_with_audio(tmp_path))
    (tmp_path / "talk.mp3").unlink()
    html = (await build_datasette(tmp_path / "my-talks.db").client.get("/my-talks/chapters")).text
    assert '<td class="col-start type-float"><span title="20 s">[00:20]</span></td>' in html
    rows = html.split("<tbody>")[1].split("</tbody>")[0]
    assert "archive-time" not in rows and "<audio" not in rows


def test_snippet_highlighting_keeps_only_balanced_marks():
    cells = load_plugin("archive_cells")
    highlight = cells.highlight_snippet
    assert highlight("a <mark>b</mark> <i>c</i>") == "a <mark>b</mark> &lt;i&gt;c&lt;/i&gt;"
    assert highlight("</mark>x <mark>y") == "&lt;/mark&gt;x <mark>y</mark>"
    assert highlight("<mark><mark>z</mark>") == "<mark>&lt;mark&gt;z</mark>"


def test_times_read_as_the_cli_prints_them():
    from pipeline.timefmt import format_timestamp
    from plugins import archive_rules

    cells = load_plugin("archive_cells")  # as a bundle loads it: the rules from beside it
    assert cells.rules.clock is not archive_rules.clock or cells.rules is archive_rules
    assert [cells.rules.clock(s) for s in (0, 35.9, 599, 3725.5)] == [
        "00:00",
        "00:35",
        "09:59",
        "01:02:05",
    ]
    assert format_timestamp(3725.5) == "01:02:05"
    assert [cells.fragment_seconds(s) for s in (20.0, 35.34, 0.5)] == ["20", "35.34", "0.5"]


# Audio served by the same process


async def test_audio_is_served_whole_with_its_type(ds, local_audio):
    route, path = local_audio
    response = await ds.client.get(route)
    assert response.status_code == 200
    assert response.headers["content-type"] == "audio/mpeg"
    assert response.headers["accept-ranges"] == "bytes"
    assert response.content == open(path, "rb").read()


@pytest.mark.parametrize(
    "header, first, last",
    [("bytes=100-199", 100, 199), ("bytes=1000-", 1000, None), ("bytes=-500", -500, None)],
)
async def test_audio_range_requests_get_partial_content(ds, local_audio, header, first, last):
    route, path = local_audio
    data = open(path, "rb").read()
    response = await ds.client.get(route, headers={"range": header})
    assert response.status_code == 206
    expected = data[first : None if last is None else last + 1]
    assert response.content == expected
    start = first if first >= 0 else len(data) + first
    assert response.headers["content-range"] == (
        f"bytes {start}-{start + len(expected) - 1}/{len(data)}"
    )
    assert response.headers["content-length"] == str(len(expected))


async def test_audio_range_past_the_end_is_not_satisfiable(ds, local_audio):
    response = await ds.client.get(local_audio[0], headers={"range": "bytes=99999999-"})
    assert response.status_code == 416
    assert response.headers["content-range"].startswith("bytes */")


async def test_only_audio_the_archive_names_is_served(ds, local_audio, tmp_path):
    route, path = local_audio
    unknown = "/-/audio/" + hashlib.sha256(b"other").hexdigest() + ".mp3"
    assert (await ds.client.get(unknown)).status_code == 404
    for sneaky in ("/-/audio/../my-talks.db", "/-/audio/%2e%2e/etc/passwd", "/-/audio/talk.mp3"):
        assert (await ds.client.get(sneaky, follow_redirects=True)).status_code == 404
    (tmp_path / "talk.mp3").unlink()  # the file the archive names is gone
    assert (await ds.client.get(route)).status_code == 404


def test_byte_ranges_are_parsed_as_http_says():
    audio = load_plugin("archive_audio")
    assert audio.byte_range("bytes=0-0", 10) == (0, 0)
    assert audio.byte_range("bytes=5-100", 10) == (5, 9)
    assert audio.byte_range("bytes=-3", 10) == (7, 9)
    assert audio.byte_range("bytes=-30", 10) == (0, 9)
    for ignored in (None, "", "bytes=1-2,4-5", "items=0-1"):
        assert audio.byte_range(ignored, 10) is None
    malformed = ("bytes=5-2", "bytes=-", "bytes=x-1", "bytes=0-" + "9" * 4301, "bytes=1-2-3")
    for unsatisfiable in ("bytes=10-", "bytes=-0", *malformed):
        with pytest.raises(audio.RangeNotSatisfiable):
            audio.byte_range(unsatisfiable, 10)


# Read-only and safe


def file_digest(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


@pytest.mark.parametrize(
    "sql, error",
    [
        ("delete from segments", "Statement must be a SELECT"),
        ("with x as (select 1) delete from segments", "not authorized"),
        ("with x as (select 1) update episodes set title = 'x'", "not authorized"),
        (
            "with x as (select 1) insert into segments_fts(segments_fts) values ('delete-all')",
            "not authorized",
        ),
        ("attach database ':memory:' as other", "Statement must be a SELECT"),
        ("pragma query_only = 0", "Statement must be a SELECT"),
        ("select * from pragma_query_only", "disallowed PRAGMA"),
        ("select load_extension('libsqlite3.so.0')", "not authorized"),
        ("select length(randomblob(900000000))", "string or blob too big"),
    ],
)
async def test_writes_and_attacks_through_sql_are_refused(ds, archive, sql, error):
    before = file_digest(archive)
    response = await run_sql(ds, sql)
    assert response.status_code == 400
    assert error in response.json()["error"]
    assert file_digest(archive) == before
    assert len(await json_rows(ds, "/my-talks/segments.json")) == 7


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
async def test_requests_that_could_change_anything_are_refused(ds, method):
    for path in ("/my-talks/search", "/my-talks/segments", "/my-talks", "/-/audio/x"):
        response = await ds.client.request(method, path, data={"sql": "delete from segments"})
        assert response.status_code == 405
        assert response.headers["allow"] == "GET, HEAD, OPTIONS"


RUNAWAY_QUERIES = [
    "with recursive c(x) as (select 1 union all select x + 1 from c) select count(*) from c",
    "with recursive c(x) as (select 1 union all select x + 1 from c) "
    "select length(group_concat(x)) from c",
]


@pytest.mark.parametrize("runaway", RUNAWAY_QUERIES)
async def test_a_runaway_query_ends_in_about_a_second_and_the_next_one_answers(ds, runaway):
    started = time.perf_counter()
    response = await run_sql(ds, runaway)
    elapsed = time.perf_counter() - started
    assert response.status_code == 400
    assert re.search("took too long|string or blob too big", response.json()["error"])
    assert elapsed < 5  # the limit is 1 s; the margin is for a busy machine
    assert (await run_sql(ds, "select count(*) as n from segments")).json()["rows"] == [[7]]


async def test_connections_refuse_writes_and_attach_even_when_served_mutable(archive):
    """Defence in depth: the plugin's connection settings hold without immutability."""
    from datasette.app import Datasette

    database = Datasette(files=[str(archive)]).get_database("my-talks")  # plugins: installed
    with pytest.raises(sqlite3.DatabaseError, match="not authorized|readonly database"):
        await database.execute_write("delete from segments")

    def attach(conn):
        return conn.execute("attach database ':memory:' as other")

    with pytest.raises(sqlite3.DatabaseError, match="not authorized|too many attached"):
        await database.execute_fn(attach)
    assert len((await database.execute("select id from segments")).rows) == 7


def test_archive_serve_loads_no_extensions_and_sets_its_limits(archive):
    from db.serve import datasette_serve_args

    args = datasette_serve_args(str(archive), "metadata.json", "127.0.0.1", 8001)
    assert "--load-extension" not in args and "--crossdb" not in args
    assert args[:2] == ["serve", str(archive)]  # live: read-only connections, not immutable
    first = args.index("--setting")  # the settings come last, as name-value pairs
    settings = {args[i + 1]: args[i + 2] for i in range(first, len(args), 3)}
    assert settings["sql_time_limit_ms"] == "1000" and settings["max_returned_rows"] == "1000"
    assert settings["allow_download"] == "false"
    assert "--plugins-dir" not in args  # the plugins load through the package's entry point
