"""The archive's own pages in-process: home, search results (and .json), episode."""

import html as html_lib
import re
import sys
import urllib.parse

import pytest

from db.schema import open_archive
from db.search import SearchFilters, count_matches, search, search_chapters
from db.serve import build_datasette

from .web_archive import KENNEDY, build_archive, load_plugin, talk_with_audio, timed_episode

CDN_URL = "https://cdn.example.com/kennedy.mp3"
FEED_GUID = "https://example.com/episodes/7?x=1"  # feed guids are often URLs


def dated(episode, show, published):
    episode.show, episode.published = show, published
    return episode


@pytest.fixture
def archive(tmp_path):
    """A talk (local mp3, 2024), a speech (public URL, 1961) and an undated episode."""
    path = tmp_path / "my-talks.db"
    build_archive(
        path,
        dated(talk_with_audio(tmp_path), "Talks", "2024-03-01T10:00:00Z"),
        dated(timed_episode("kennedy", KENNEDY, audio_url=CDN_URL), "Speeches", "1961-01-20"),
        timed_episode(FEED_GUID, ((2.0, "An undated pause between countries."),)),
    )
    return path


@pytest.fixture
def ds(archive):
    return build_datasette(archive)


def visible_text(page: str) -> str:
    """What a reader sees: the body without tags, scripts or attributes."""
    body = page.split("<body", 1)[-1]
    body = re.sub(r"<script.*?</script>", " ", body, flags=re.DOTALL)
    return html_lib.unescape(re.sub(r"<[^>]+>", " ", body))


async def get_html(ds, path):
    response = await ds.client.get(path)
    assert response.status_code == 200, response.text
    return response.text


# Home


async def test_home_has_the_search_box_first_then_newest_episodes_and_figures(ds):
    page = await get_html(ds, "/")
    content = page.split('<section class="content">')[1]
    assert content.index('<form class="archive-search"') < content.index("archive-episodes")
    assert re.search(r'<label for="archive-q">Search what was said</label>', content)
    assert re.search(r'<input id="archive-q" name="q" type="search"[^>]*autofocus', content)
    titles = re.findall(r'class="archive-episode-title" href="([^"]+)">([^<]+)<', content)
    assert [title for _, title in titles] == ["Title talk", "Title kennedy", f"Title {FEED_GUID}"]
    assert titles[2][0] == "/-/episode/" + urllib.parse.quote(FEED_GUID, safe="")
    text = " ".join(visible_text(content).split())
    assert "Title talk Talks · 2024-03-01 · 1:00 · 3 chapters" in text
    assert "3 episodes · 3 minutes of audio · 76 words" in text


async def test_home_keeps_the_links_for_sql_users(ds):
    page = await get_html(ds, "/")
    for href in ("/my-talks", "/my-talks/episodes", "/my-talks/segments", "/my-talks/words"):
        assert f'href="{href}"' in page


async def test_home_of_a_datasette_without_an_archive_is_datasettes_own(tmp_path):
    import sqlite3

    from datasette.app import Datasette

    sqlite3.connect(tmp_path / "other.db").execute("create table notes (x)").close()
    ds = Datasette([str(tmp_path / "other.db")])  # the plugins load through their entry points
    page = await get_html(ds, "/")
    assert 'href="/other"' in page and "archive-q" not in page
    assert (await ds.client.get("/-/search?q=x")).status_code == 404


# Results


async def test_results_count_group_and_link_every_moment(ds, archive):
    page = await get_html(ds, "/-/search?q=pause")
    text = " ".join(visible_text(page).split())
    assert "4 moments in 2 episodes" in text
    groups = re.findall(r'<article class="archive-group" data-episode="([^"]+)">', page)
    best_first = [hit["episode_id"] for hit in search(open_archive(archive), "pause").hits]
    assert groups == list(dict.fromkeys(best_first))  # by best hit; each episode once
    talk = page.split('data-episode="talk"')[1].split("</article>")[0]
    chapters = re.findall(r'class="archive-chapter" href="([^"]+)">([^<]+)<', talk)
    assert chapters == [  # in the order they were said
        ("/-/episode/talk#t=2", "Opening"),
        ("/-/episode/talk#t=22", "Middle"),
        ("/-/episode/talk#t=42", "End"),
    ]
    play = re.findall(
        r'class="archive-time archive-play" href="(/-/audio/[0-9a-f]{64}\.mp3#t=\d+)"', talk
    )
    assert [href.split("#")[1] for href in play] == ["t=2", "t=22", "t=42"]
    assert "with a <mark>pause</mark> for breath" in talk


async def test_results_show_no_ids_or_raw_scores(ds):
    text = visible_text(await get_html(ds, "/-/search?q=pause"))
    assert "rank" not in text and "segment_id" not in text and "episode_id" not in text
    assert not re.search(r"-?\d+\.\d{4,}", text)  # no bm25 scores
    assert "/home/" not in text and ".mp3" not in text


async def test_results_json_is_the_same_search(ds, archive):
    response = await ds.client.get("/-/search.json?q=pause")
    data = response.json()
    db = open_archive(archive)
    expected = search(db, "pause", lenient=True).hits
    assert data["count"] == {"moments": 4, "episodes": 2, "at_least": False}
    shown = sorted((hit["episode_id"], hit["start"]) for hit in data["hits"])
    assert shown == sorted((hit["episode_id"], hit["start"]) for hit in expected)
    first = next(hit for hit in data["hits"] if hit["start"] == 42.0)
    assert first["url"] == "/-/episode/talk#t=42" and first["chapter_title"] == "End"
    assert first["snippet"].startswith("A unilateral decision, then a long <mark>pause</mark>")
    assert "&lt;script&gt;" in first["snippet"]  # the snippet is safe HTML
    assert data["next"] is None and data["searched_as_words"] is None


@pytest.mark.parametrize("query", ['"', "NEAR(", "*", "AND", 'pause "for', "(pause"])
async def test_bad_syntax_is_searched_as_words_never_an_error(ds, query):
    response = await ds.client.get("/-/search?" + urllib.parse.urlencode({"q": query}))
    assert response.status_code == 200
    text = " ".join(visible_text(response.text).split())
    assert "searched for the words:" in text
    assert "syntax error" not in text and "fts5" not in text and "Error" not in text


async def test_words_with_an_operator_typo_still_find_the_moment(ds):
    text = visible_text(await get_html(ds, "/-/search?q=" + urllib.parse.quote('pause "breath')))
    said = " ".join(text.split())
    words = said.split("searched for the words: ")[1].lower()
    assert words.startswith("pause") and "breath" in words
    assert "1 moment in 1 episode" in " ".join(text.split())


async def test_an_empty_search_shows_the_form_and_no_count(ds):
    page = await get_html(ds, "/-/search?q=++")
    assert 'id="archive-q"' in page and "archive-count" not in page
    assert (await ds.client.get("/-/search.json")).json()["count"] is None


async def test_filters_narrow_by_show_episode_and_date(ds):
    async def moments(**args):
        data = (await ds.client.get("/-/search.json?" + urllib.parse.urlencode(args))).json()
        return sorted({hit["episode_id"] for hit in data["hits"]})

    assert await moments(q="countr*") == sorted(["kennedy", FEED_GUID])
    assert await moments(q="countr*", show="Speeches") == ["kennedy"]
    assert await moments(q="pause", episode="talk") == ["talk"]
    assert await moments(q="pause", **{"from": "2024-03-01"}) == ["talk"]
    assert await moments(q="pause", to="2024-02-29") == []
    assert await moments(q="countr*", to="1961-01-20") == ["kennedy"]


async def test_an_episode_page_searches_within_it_and_results_say_so(ds):
    page = await get_html(ds, "/-/episode/talk")
    assert '<input type="checkbox" name="episode" value="talk"> Only in this episode' in page
    results = await get_html(ds, "/-/search?q=pause&episode=talk")
    assert "Only in <strong>Title talk</strong>" in results
    assert 'href="/-/search?q=pause&amp;page=1&amp;sort=relevance">search all episodes' in results
    assert "3 moments in 1 episode" in " ".join(visible_text(results).split())


async def test_a_bad_date_is_ignored_and_said_so(ds):
    text = visible_text(await get_html(ds, "/-/search?q=pause&from=yesterday"))
    assert "Ignored the date 'yesterday': dates are YYYY-MM-DD." in text
    assert "4 moments in 2 episodes" in " ".join(text.split())


async def test_newest_first_puts_the_newest_episode_first(ds):
    page = await get_html(ds, "/-/search?q=countr*&sort=newest")
    assert re.findall(r'data-episode="([^"]+)"', page) == ["kennedy", FEED_GUID]  # undated last
    assert '<option value="newest" selected>' in page


async def test_chapter_title_matches_are_shown_apart(ds):
    page = await get_html(ds, "/-/search?q=middle")
    section = page.split('class="archive-chapter-matches"')[1].split("</section>")[0]
    links = re.findall(r'<a href="([^"]+)"><mark>Middle</mark></a>', section)
    assert sorted(links) == sorted(
        [
            "/-/episode/talk#t=20",
            "/-/episode/kennedy#t=20",
            f"/-/episode/{urllib.parse.quote(FEED_GUID, safe='')}#t=20",
        ]
    )


async def test_more_pages_follow_without_repeating(tmp_path):
    texts = tuple((2.0 + 2 * i, f"Sentence {i} says pause again.") for i in range(27))
    build_archive(tmp_path / "many.db", timed_episode("many", texts))
    ds = build_datasette(tmp_path / "many.db")
    first = (await ds.client.get("/-/search.json?q=pause")).json()
    assert first["count"]["moments"] == 27 and len(first["hits"]) == 20
    assert first["next"] == "/-/search?q=pause&page=2&sort=relevance"
    page = await get_html(ds, first["next"])
    assert 'class="archive-more-link"' not in page
    second = (await ds.client.get("/-/search.json?q=pause&page=2")).json()
    starts = {hit["start"] for hit in first["hits"]} | {hit["start"] for hit in second["hits"]}
    assert len(second["hits"]) == 7 and len(starts) == 27
    assert 'class="archive-more-link" href="/-/search?q=pause&amp;page=2' in await get_html(
        ds, "/-/search?q=pause"
    )


async def test_a_count_past_the_cap_says_more_than_and_claims_no_episodes(tmp_path, monkeypatch):
    """Counting stops at the cap (cheaply, on every page view); the episodes of the first
    matches counted would be too few, so none are claimed."""
    import db.search

    monkeypatch.setattr(db.search, "COUNT_CAP", 25)
    texts = tuple((2.0 + 2 * i, f"Sentence {i} says pause again.") for i in range(27))
    build_archive(tmp_path / "many.db", timed_episode("many", texts))
    ds = build_datasette(tmp_path / "many.db")
    for query in ("q=pause", "q=pause&episode=many"):  # FTS5 alone counts; with filters, joined
        data = (await ds.client.get(f"/-/search.json?{query}")).json()
        assert data["count"] == {"moments": 25, "episodes": None, "at_least": True}
    text = " ".join(visible_text(await get_html(ds, "/-/search?q=pause")).split())
    assert "More than 25 moments" in text and "moments in" not in text


async def test_a_show_stored_while_serving_is_offered_on_the_next_search(archive, ds):
    """The shows are cached between searches, and read again when the live file changes."""
    assert "<option>Lectures</option>" not in await get_html(ds, "/-/search?q=pause")
    lecture = timed_episode("lecture", ((2.0, "A pause."),))
    build_archive(archive, dated(lecture, "Lectures", "2024-05-01"))
    assert "<option>Lectures</option>" in await get_html(ds, "/-/search?q=pause")


# Episode


async def test_episode_page_has_player_chapters_and_transcript(ds, archive):
    page = await get_html(ds, "/-/episode/talk")
    sha = (
        open_archive(archive)
        .execute("select audio_sha256 from episodes where id='talk'")
        .fetchone()[0]
    )
    assert (
        f'<audio id="archive-episode-audio" controls preload="metadata" src="/-/audio/{sha}.mp3">'
        in page
    )
    toc = re.findall(
        r'<a class="archive-jump" href="#t=(\d+)" data-start="[\d.]+">'
        r'<span class="archive-clock">[\d:]+</span> (\w+)</a>',
        page,
    )
    assert toc == [("0", "Opening"), ("20", "Middle"), ("40", "End")]
    segments = re.findall(r'<p class="archive-segment" data-start="([\d.]+)"', page)
    assert segments == ["2.0", "22.0", "42.0"]
    assert "Copy link to this moment" in page
    assert str(archive.parent) not in page  # no local path


async def test_episode_page_of_a_public_url_and_an_id_with_slashes(ds):
    assert f'src="{CDN_URL}"' in await get_html(ds, "/-/episode/kennedy")
    quoted = urllib.parse.quote(FEED_GUID, safe="")
    assert "An undated pause between countries." in await get_html(ds, f"/-/episode/{quoted}")


async def test_an_unknown_episode_is_a_404_page(ds):
    response = await ds.client.get("/-/episode/nope")
    assert response.status_code == 404 and "No episode &#39;nope&#39;" in response.text


# The search contract the pages rely on


def test_search_contract_lenient_words_counts_and_chapters(archive):
    db = open_archive(archive)
    page = search(db, "NEAR(", lenient=True)
    assert page.as_words and "near" in " ".join(page.words).lower() and page.hits == []
    assert not search(db, "pause").as_words
    capped = count_matches(db, "pause", cap=2)
    assert (capped.moments, capped.episodes, capped.at_least) == (2, None, True)
    assert count_matches(db, "pause").episodes == 2
    only = SearchFilters(show="Talks")
    assert [c["episode_id"] for c in search_chapters(db, "end", filters=only)] == ["talk"]
    assert search_chapters(db, "end", filters=only)[0]["title_snippet"] == "<mark>End</mark>"


async def test_a_hidden_chapter_is_in_the_transcript_not_the_chapter_list(tmp_path):
    episode = talk_with_audio(tmp_path)
    episode.chapters[1].hidden = True  # Podcasting 2.0 "toc": false
    build_archive(tmp_path / "my-talks.db", episode)
    page = await get_html(build_datasette(tmp_path / "my-talks.db"), "/-/episode/talk")
    toc = page.split('class="archive-toc"')[1].split("</nav>")[0]
    assert "Opening" in toc and "End" in toc and "Middle" not in toc
    assert '<h3 id="chapter-1"><span class="archive-clock">00:20</span> Middle</h3>' in page


def test_the_pages_step_aside_where_the_archive_package_is_missing(monkeypatch):
    """A published bundle on Datasette alone: the other plugins serve, the pages are off."""
    for name in ("db", "db.browse", "db.search", "pipeline", "pipeline.timefmt"):
        monkeypatch.setitem(sys.modules, name, None)  # import fails
    pages = load_plugin("archive_pages")
    assert pages.register_routes() == []
