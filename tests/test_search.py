import pytest

from db.schema import open_archive
from db.search import SearchQueryError, search_segments
from db.store import store_episode

from .test_store import fake_episode


@pytest.fixture
def db(db_path):
    db = open_archive(db_path)
    store_episode(
        db,
        fake_episode(
            "kennedy",
            texts=(
                "And so my fellow Americans, ask not what your country can do for you.",
                "Ask what you can do for your country.",
                "Country after country, the country was quiet.",
            ),
        ),
    )
    store_episode(
        db,
        fake_episode(
            "sonnets",
            texts=(
                "From fairest creatures we desire increase.",
                "When forty winters shall besiege thy brow.",
                "Look in thy glass and tell the face thou viewest.",
            ),
        ),
    )
    return db


def texts(hits):
    return [hit["text"] for hit in hits]


def test_hit_has_the_documented_shape(db):
    hit = search_segments(db, "fairest")[0]
    assert {
        "episode_id",
        "episode_title",
        "chapter_position",
        "chapter_title",
        "start",
        "end",
        "text",
        "snippet",
    } <= set(hit)
    assert hit["episode_id"] == "sonnets" and hit["episode_title"] == "Title sonnets"
    assert (hit["chapter_position"], hit["chapter_title"]) == (0, "Opening")
    assert hit["snippet"] == "From <mark>fairest</mark> creatures we desire increase."
    assert hit["start"] == pytest.approx(2.0)


def test_phrase(db):
    assert texts(search_segments(db, '"ask not"')) == [
        "And so my fellow Americans, ask not what your country can do for you."
    ]


def test_words_without_quotes_match_anywhere_in_the_segment(db):
    assert len(search_segments(db, "country ask")) == 2


def test_prefix(db):
    assert len(search_segments(db, "countr*")) == 3


def test_boolean_operators(db):
    assert len(search_segments(db, "country NOT ask")) == 1
    assert len(search_segments(db, "winters OR glass")) == 2
    assert len(search_segments(db, "country AND quiet")) == 1


def test_stemming_finds_other_forms(db):
    assert texts(search_segments(db, "creature")) == ["From fairest creatures we desire increase."]


def test_ranked_best_first(db):
    hits = search_segments(db, "country")
    assert hits[0]["text"] == "Country after country, the country was quiet."
    assert [h["rank"] for h in hits] == sorted(h["rank"] for h in hits)


def test_episode_filter_and_limit(db):
    assert search_segments(db, "thy", episode="kennedy") == []
    assert len(search_segments(db, "thy", episode="sonnets")) == 2
    assert len(search_segments(db, "countr*", limit=1)) == 1


@pytest.mark.parametrize("query", ['"unclosed', "AND", "fair* NEAR(", "(country"])
def test_malformed_query_is_a_clear_error(db, query):
    with pytest.raises(SearchQueryError, match="invalid search query"):
        search_segments(db, query)


def test_punctuation_without_operators_is_searched_literally(db):
    assert texts(search_segments(db, "country.")) and search_segments(db, "don't RSP v3.0") == []


def test_empty_query(db):
    with pytest.raises(SearchQueryError, match="empty"):
        search_segments(db, "  ")
