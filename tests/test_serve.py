"""Datasette over a real archive file: in-process, and as `archive serve` really runs it."""

import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from db.schema import open_archive
from db.serve import build_datasette
from db.store import store_episode

from .test_store import fake_episode

ARCHIVE = Path(sys.executable).with_name("archive")


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


async def test_served_immutable_and_read_only(served_db):
    ds = build_datasette(served_db)
    databases = (await ds.client.get("/-/databases.json")).json()
    assert [(d["name"], d["is_mutable"]) for d in databases] == [("my-talks", False)]
    response = await ds.client.get(
        "/my-talks.json?sql=" + urllib.request.quote("delete from segments")
    )
    assert response.status_code == 400
    count = (await ds.client.get("/my-talks/segments.json?_shape=array")).json()
    assert len(count) == 2


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_archive_serve_runs_datasette(served_db):
    port = free_port()
    process = subprocess.Popen(
        [str(ARCHIVE), "serve", "--db", str(served_db), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(base + "/-/versions.json", timeout=1)
                break
            except OSError:
                assert process.poll() is None, process.stderr.read().decode()
                assert time.monotonic() < deadline, "archive serve did not start"
                time.sleep(0.2)
        url = base + "/my-talks/segments.json?_search=country&_shape=array"
        rows = json.load(urllib.request.urlopen(url, timeout=5))
        assert len(rows) == 2
        settings = json.load(urllib.request.urlopen(base + "/-/settings.json", timeout=5))
        assert settings["sql_time_limit_ms"] == 1000
    finally:
        process.terminate()
        process.wait(timeout=10)
