"""A served archive while episodes arrive: `archive ingest` (the real model, on real
recordings) writes three episodes into the file `archive serve` is serving, while 20
clients search it. Nobody gets an error, nobody sees half an episode, and each new
episode is found by the first search sent after its ingest ends.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import threading
import time
from contextlib import closing
import urllib.parse
import urllib.request

from db.schema import open_archive
from db.serve import build_datasette
from db.store import store_episode

from .audio_tools import ffmpeg
from .conftest import CORPUS
from .server import ARCHIVE, archive_server
from .test_store import fake_episode

CLIENTS = 20
# Episodes without all their chapters and segments: never non-zero for a reader.
HALF_WRITTEN_SQL = (
    "select count(*) from episodes where id not in (select episode_id from segments) "
    "or (select count(*) from chapters where episode_id = episodes.id) = 0"
)


def get_json(url: str):
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.load(response)


def search_url(base: str, query: str) -> str:
    return f"{base}/talks/search.json?" + urllib.parse.urlencode({"q": query, "_shape": "array"})


class Clients:
    """``CLIENTS`` threads searching (one of them checking for half-written episodes)
    until stopped; they count requests and keep every error."""

    def __init__(self, base: str):
        self.base, self.stop, self.lock = base, threading.Event(), threading.Lock()
        self.requests, self.errors, self.slowest = 0, [], 0.0
        self.threads = [threading.Thread(target=self.run, args=(n,)) for n in range(CLIENTS)]

    def run(self, number: int) -> None:
        queries = ["country", "fellow americans", "ask not", "beauty", "thy"]
        while not self.stop.is_set():
            started = time.perf_counter()
            try:
                if number == 0:
                    sql = urllib.parse.urlencode({"sql": HALF_WRITTEN_SQL, "_shape": "arrays"})
                    rows = get_json(f"{self.base}/talks.json?{sql}")["rows"]
                    if rows != [[0]]:
                        raise AssertionError(f"half-written episodes seen: {rows}")
                else:
                    get_json(search_url(self.base, queries[number % len(queries)]))
            except (OSError, ValueError, AssertionError) as error:
                with self.lock:
                    self.errors.append(repr(error))
            with self.lock:
                self.requests += 1
                self.slowest = max(self.slowest, time.perf_counter() - started)

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join()


def clips(folder) -> list:
    """Three short recordings: Kennedy, and the opening 12 s of two read sonnets."""
    made = [CORPUS / "jfk.flac"]
    for name in ("sonnet-p001", "sonnet-p002"):
        out = folder / f"{name}-opening.mp3"
        ffmpeg("-i", str(CORPUS / f"{name}.mp3"), "-t", "12", "-c", "copy", str(out))
        made.append(out)
    return made


def longest_word(db_path, episode_id: str) -> str:
    with closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)) as conn:
        rows = conn.execute("select text from segments where episode_id = ?", [episode_id])
        texts = [row[0] for row in rows]
    words = [w.strip(".,;:!?’'\"").lower() for text in texts for w in text.split()]
    return max((w for w in words if w.isalpha()), key=len)


def test_episodes_ingested_while_serving_are_found_at_once(tmp_path):
    db_path = tmp_path / "talks.db"
    db = open_archive(db_path)
    store_episode(db, fake_episode("first", texts=("Ask not what your country can do.",)))
    db.close()
    audio = clips(tmp_path)
    findings = []
    with archive_server(db_path) as base, Clients(base) as clients:
        time.sleep(1)  # the clients are all searching
        for clip in audio:
            started = time.perf_counter()
            ingest = subprocess.run(
                [ARCHIVE, "ingest", clip, "--db", db_path, "-q"], capture_output=True, text=True
            )
            ended = time.perf_counter()
            assert ingest.returncode == 0, ingest.stderr
            episode_id = ingest.stdout.strip()
            word = longest_word(db_path, episode_id)
            hits = get_json(search_url(base, word))  # the first request after the ingest
            found = episode_id in {hit["episode_id"] for hit in hits}
            findings.append((episode_id, word, ended - started, found))
    print(
        f"\n{len(audio)} ingests while {CLIENTS} clients searched: {clients.requests} requests, "
        f"{len(clients.errors)} errors, slowest {clients.slowest:.2f} s"
    )
    for episode_id, word, seconds, found in findings:
        print(f"  {episode_id}: ingest {seconds:.1f} s; {word!r} found by the next search: {found}")
    assert clients.errors == []
    assert [found for *_, found in findings] == [True] * 3
    assert clients.requests > CLIENTS * 3


async def test_a_live_datasette_sees_an_episode_stored_after_it_started(tmp_path):
    path = tmp_path / "talks.db"
    db = open_archive(path)
    store_episode(db, fake_episode("first", texts=("The first words.",)))
    ds = build_datasette(path)
    assert len((await ds.client.get("/talks/episodes.json?_shape=array")).json()) == 1
    store_episode(db, fake_episode("second", texts=("Words that came later.",)))
    hits = (await ds.client.get("/talks/search.json?q=later&_shape=array")).json()
    assert [hit["episode_id"] for hit in hits] == ["second"]
    assert db.execute("pragma journal_mode").fetchone() == ("wal",)
