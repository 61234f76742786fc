"""Datasette over a real archive file: in-process, and as `archive serve` really runs it."""

import asyncio
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from db.schema import open_archive
from db.serve import ServeOptions, build_datasette
from db.store import store_episode

from .server import archive_server
from .test_store import fake_episode


@pytest.fixture
def served_db(tmp_path):
    path = tmp_path / "my-talks.db"
    db = open_archive(path)
    store_episode(
        db,
        fake_episode(
            "kennedy",
            texts=(
                "And so my fellow Americans, ask not what your country can do for you.",
                "Ask what you can do for your country.",
            ),
        ),
    )
    db.close()
    return path


async def test_datasette_answers_a_search_in_process(served_db):
    ds = build_datasette(served_db)
    response = await ds.client.get("/my-talks/segments.json?_search=%22ask+not%22&_shape=array")
    assert response.status_code == 200
    rows = response.json()
    assert [row["text"] for row in rows] == [
        "And so my fellow Americans, ask not what your country can do for you."
    ]


async def test_datasette_shows_the_tables_with_their_descriptions(served_db):
    ds = build_datasette(served_db)
    database = (await ds.client.get("/my-talks.json")).json()
    tables = {table["name"]: table for table in database["tables"]}
    assert {"episodes", "chapters", "segments", "words"} <= set(tables)
    assert tables["segments"]["fts_table"] == "segments_fts"
    metadata = (await ds.client.get("/-/metadata.json")).json()
    described = metadata["databases"]["my-talks"]["tables"]["chapters"]["columns"]
    assert "stated_start" in described


@pytest.mark.parametrize("immutable", [False, True])
async def test_served_live_or_immutable_and_read_only(served_db, immutable):
    ds = build_datasette(served_db, ServeOptions(immutable=immutable))
    databases = (await ds.client.get("/-/databases.json")).json()
    assert databases == [
        {"name": "my-talks", "route": "my-talks", "is_mutable": not immutable, "is_memory": False}
    ]  # and no path
    response = await ds.client.get(
        "/my-talks.json?sql=" + urllib.request.quote("delete from segments")
    )
    assert response.status_code == 400
    count = (await ds.client.get("/my-talks/segments.json?_shape=array")).json()
    assert len(count) == 2


def test_archive_serve_runs_datasette(served_db):
    with archive_server(served_db) as base:
        url = base + "/my-talks/segments.json?_search=country&_shape=array"
        rows = json.load(urllib.request.urlopen(url, timeout=5))
        assert len(rows) == 2
        settings = json.load(urllib.request.urlopen(base + "/-/settings.json", timeout=5))
        assert settings["sql_time_limit_ms"] == 1000
        hits = json.load(
            urllib.request.urlopen(base + "/my-talks/search.json?q=ask+not&_shape=array", timeout=5)
        )
        assert hits[0]["snippet"].startswith("And so my fellow Americans, <mark>ask</mark>")


RUNAWAY = "with recursive c(x) as (select 1 union all select x + 1 from c) select count(*) from c"


def timed_get(url: str) -> tuple[int, float]:
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, time.perf_counter() - started
    except urllib.error.HTTPError as error:
        return error.code, time.perf_counter() - started


def test_a_runaway_query_ends_and_the_server_answers_others_meanwhile(served_db):
    with archive_server(served_db) as base:
        runaway_url = base + "/my-talks.json?" + urllib.parse.urlencode({"sql": RUNAWAY})
        search_url = base + "/my-talks/search.json?q=country"
        with ThreadPoolExecutor() as pool:
            runaway = pool.submit(timed_get, runaway_url)
            time.sleep(0.2)  # the runaway is running now
            search_status, _ = timed_get(search_url)
            search_answered_early = not runaway.done()
            runaway_status, runaway_seconds = runaway.result()
    print(f"runaway query ended after {runaway_seconds:.2f} s")
    assert runaway_status == 400 and runaway_seconds < 5
    assert search_status == 200 and search_answered_early


async def test_paths_and_the_download_only_when_asked_for(served_db):
    private = build_datasette(served_db, ServeOptions(immutable=True))
    shared = build_datasette(
        served_db, ServeOptions(immutable=True, allow_download=True, show_paths=True)
    )
    sql = "/my-talks.json?_shape=array&sql=select+audio_path+from+episodes"
    assert (await private.client.get(sql)).json() == [{"audio_path": None}]
    assert (await shared.client.get(sql)).json() == [{"audio_path": "kennedy.mp3"}]
    assert (await private.client.get("/my-talks.db")).status_code == 403
    download = await shared.client.get("/my-talks.db")
    assert download.status_code == 200 and download.content == served_db.read_bytes()
    listed = (await shared.client.get("/-/databases.json")).json()
    assert listed[0]["path"] == str(served_db)


def test_serve_refuses_a_download_of_a_live_archive(run_cli, served_db):
    result = run_cli("serve", "--db", served_db, "--allow-download")
    assert result.exit_code == 2 and "--allow-download needs --immutable" in result.stderr


async def test_heavy_requests_take_turns_and_too_many_at_once_are_turned_away(served_db):
    ds = build_datasette(served_db)
    runaway = {"sql": RUNAWAY, "_timelimit": 200}  # each ends after 0.2 s
    url = "/my-talks.json?" + urllib.parse.urlencode(runaway)
    responses = await asyncio.gather(*(ds.client.get(url) for _ in range(25)))
    statuses = [response.status_code for response in responses]
    # Two run at a time (Datasette has 3 SQL threads), 20 wait, the rest are told to retry.
    assert sorted(statuses) == [400] * 22 + [503] * 3
    search = await ds.client.get("/my-talks/search.json?q=country&_shape=array")
    assert search.status_code == 200 and len(search.json()) == 2
