"""`archive serve` as an attacker meets it: a real server on a live archive.

Each test counts what it tried and what was refused, and prints the count (run with -s
to see the table): writes, resource attacks (with searches timed throughout), malformed
ranges, paths and files, and markup.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from .server import archive_server
from .web_archive import KENNEDY, build_archive, talk_with_audio, timed_episode

SEARCH_SECONDS = 1.5  # the target: a search answers within this, whatever else is sent
ATTACK_SECONDS = 10  # every attack ends (refused, or stopped by the time limit) within this


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A served live archive: (base URL, database file, its folder)."""
    folder = tmp_path_factory.mktemp("attacked")
    path = folder / "talks.db"
    talk = talk_with_audio(folder)
    talk.title = "<script>alert('title')</script> talk"
    talk.chapters[1].title = '<img src=x onerror="alert(1)">'
    build_archive(path, talk, timed_episode("kennedy", KENNEDY))
    with archive_server(path) as base:
        yield base, path, folder


def fetch(url: str, *, method="GET", headers=None, data=None, timeout=30):
    """(status, body, seconds); HTTP errors are answers too."""
    request = urllib.request.Request(url, method=method, headers=headers or {}, data=data)
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read(), time.perf_counter() - started
    except urllib.error.HTTPError as error:
        try:
            return error.code, error.read(), time.perf_counter() - started
        except ConnectionError:  # the server answered, then closed: a 1 MB URL
            return error.code, b"", time.perf_counter() - started


def sql_url(base: str, sql: str) -> str:
    return f"{base}/talks.json?" + urllib.parse.urlencode({"sql": sql})


def digest(path) -> str:
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def report(kind: str, tried: int, refused: int) -> None:
    print(f"\n{kind}: {tried} tried, {refused} refused")


# Writes

WRITE_SQL = [
    "delete from segments",
    "insert into episodes (id, title) values ('x', 'x')",
    "replace into episodes (id, title) values ('x', 'x')",
    "update episodes set title = 'x'",
    "drop table segments",
    "create table evil (a)",
    "create temp table evil (a)",
    "create index evil on segments (text)",
    "create view evil as select 1",
    "create trigger evil after insert on episodes begin delete from segments; end",
    "create virtual table evil using fts5 (a)",
    "alter table episodes add column evil",
    "attach database ':memory:' as evil",
    "attach database '{folder}/evil.db' as evil",
    "detach database main",
    "vacuum",
    "vacuum into '{folder}/evil.db'",
    "reindex",
    "analyze",
    "begin",
    "savepoint evil",
    "pragma query_only = 0",
    "pragma writable_schema = 1",
    "pragma journal_mode = delete",
    "with x as (select 1) delete from segments",
    "with x as (select 1) update episodes set title = 'x'",
    "with x as (select 1) insert into episodes (id, title) values ('x', 'x')",
    "with x as (select 1) insert into segments_fts (segments_fts) values ('delete-all')",
    "insert into segments_fts (segments_fts) values ('rebuild')",
    "select * from pragma_query_only",
    "select * from pragma_writable_schema",
    "select * from pragma_journal_mode('delete')",
    "select load_extension('libsqlite3.so.0')",
    "select load_extension('/usr/lib/x86_64-linux-gnu/libsqlite3.so.0', 'sqlite3_extension_init')",
    "select writefile('{folder}/evil.txt', 'x')",
    "select readfile('/etc/passwd')",
    "select edit('x')",
    "select fts3_tokenizer('simple')",
]
METHODS = ["POST", "PUT", "PATCH", "DELETE", "TRACE"]
PATHS = ["/", "/talks", "/talks.json", "/talks/segments", "/talks/search", "/-/audio/x"]


def test_every_write_is_refused_and_the_file_never_changes(site):
    base, path, folder = site
    before = digest(path)
    refused = 0
    for sql in WRITE_SQL:
        status, body, _ = fetch(sql_url(base, sql.format(folder=folder)))
        refused += status in (400, 403) and json.loads(body)["ok"] is False
    for method in METHODS:
        for page in PATHS:
            status, _, _ = fetch(base + page, method=method, data=b"sql=delete+from+segments")
            refused += status == 405
    tried = len(WRITE_SQL) + len(METHODS) * len(PATHS)
    report("write attempts", tried, refused)
    assert refused == tried
    assert digest(path) == before
    assert not [p.name for p in folder.iterdir() if p.name.startswith("evil")]


# Resource attacks

BIG = "printf('%.*c', 3900000, 'a')"
NEEDLE = "printf('%.*c', 200000, 'a') || 'b'"
RUNAWAY_CTE = (
    "with recursive c(x) as (select 1 union all select x + 1 from c) select count(*) from c"
)
RESOURCE_SQL = {
    "runaway CTE": RUNAWAY_CTE,
    "runaway CTE, group_concat": "with recursive c(x) as (select 1 union all select x + 1 "
    "from c) select length(group_concat(x)) from c",
    "doubling CTE": "with recursive c(x) as (select 'a' union all select x || x from c) "
    "select max(length(x)) from c",
    "cross join": "select count(*) from words a, words b, words c, words d, words e",
    "printf width": "select length(printf('%.*c', 1000000000, 'x'))",
    "printf width, %n first": "select length(printf('%n%.*c', 1000000000, 'x'))",
    "printf width, written": "select length(printf('%999999999d', 1))",
    "format width": "select length(format('%.*c', '1000000000', 'x'))",
    "zeroblob": "select length(zeroblob(1000000000))",
    "randomblob": "select length(randomblob(1000000000))",
    "replace, long needle": f"select length(replace({BIG}, {NEEDLE}, 'x'))",
    "replace, growing": f"select length(replace({BIG}, 'a', 'aaaa'))",
    "instr": f"select instr({BIG}, {NEEDLE})",
    "like": f"select {BIG} like '%' || {NEEDLE} || '%'",
    "like, escape": f"select {BIG} like '%' || {NEEDLE} || '%' escape '!'",
    "glob": f"select {BIG} glob '*' || {NEEDLE} || '*'",
    "trim": f"select length(trim({BIG}, {NEEDLE}))",
    "nested expression": "select " + "(" * 5000 + "1" + ")" * 5000,
    "json nesting": "select json(printf('%.*c', 1000000, '['))",
    "1 MB statement": "select '" + "x" * 1_000_000 + "'",
}
FTS_ATTACKS = {
    "5,000-term search": " OR ".join(f"word{n}" for n in range(5000)),
    "deeply nested search": "(" * 5000 + "country" + ")" * 5000,
    "1 MB search": "country " * 130_000,
    "5,000 prefixes": " OR ".join(f"{chr(97 + n % 26)}*" for n in range(5000)),
}


def attack_urls(base: str) -> dict[str, str]:
    urls = {name: sql_url(base, sql) for name, sql in RESOURCE_SQL.items()}
    for name, query in FTS_ATTACKS.items():
        urls[name] = f"{base}/talks/search.json?" + urllib.parse.urlencode({"q": query})
        chapters = urllib.parse.urlencode({"q": query})
        urls[name + ", chapters"] = f"{base}/talks/chapter_search.json?{chapters}"
    return urls


def search_while(base: str, running) -> list[float]:
    """Search again and again until ``running()`` is false; each search's seconds."""
    seconds = []
    while running() or not seconds:
        status, body, elapsed = fetch(f"{base}/talks/search.json?q=country&_shape=array")
        assert status == 200 and b"country" in body.lower()
        seconds.append(elapsed)
    return seconds


def test_resource_attacks_end_and_searches_answer_throughout(site):
    """Ten attacks at a time, runaway queries among them, while searches are timed."""
    base, path, _ = site
    urls = attack_urls(base)
    results, searches = {}, []
    with ThreadPoolExecutor(max_workers=10) as pool:
        futures = {name: pool.submit(fetch, url) for name, url in urls.items()}
        searches = search_while(base, lambda: not all(f.done() for f in futures.values()))
        results = {name: future.result() for name, future in futures.items()}
    slow = {name: round(r[2], 2) for name, r in results.items() if r[2] > ATTACK_SECONDS}
    failed = {name: r[0] for name, r in results.items() if r[0] >= 500}
    ended = len(results) - len(slow) - len(failed)
    report("resource attacks (ended, no 5xx)", len(results), ended)
    for name, (status, body, seconds) in results.items():
        print(f"  {name}: {status} in {seconds:.2f} s {body[:80]!r}")
    print(f"searches meanwhile: {len(searches)}, slowest {max(searches):.2f} s")
    assert not slow and not failed
    assert max(searches) < SEARCH_SECONDS


def test_ten_function_bombs_at_once_leave_searches_answering(site):
    base, _, _ = site
    bombs = [
        name
        for name in RESOURCE_SQL
        if name.split(",")[0] in ("printf width", "format width", "replace", "instr", "like")
        or name in ("glob", "trim", "zeroblob", "randomblob")
    ][:10]
    assert len(bombs) == 10
    with ThreadPoolExecutor(max_workers=10) as pool:
        futures = [pool.submit(fetch, sql_url(base, RESOURCE_SQL[name])) for name in bombs]
        time.sleep(0.05)  # they are all in flight now
        status, _, seconds = fetch(f"{base}/talks/search.json?q=country")
        answers = [future.result() for future in futures]
    print(f"\n10 bombs at once: search answered in {seconds:.2f} s")
    assert status == 200 and seconds < SEARCH_SECONDS
    assert [(answer[0], b"too big" in answer[1]) for answer in answers] == [(400, True)] * 10


def test_guarded_functions_still_give_sqlites_answers(site):
    base, _, _ = site
    sql = (
        "select printf('%5.2f|%s|%d', 3.14159, 'ab', 7), format('%,d', 1234567), "
        "instr('hello', 'll'), replace('a b c', ' ', ''), trim('xxhixx', 'x'), "
        "'Hello' like '%ELL%', 'Éa' like '%éa%', 'abc' like 'a_c', 'abc' glob 'a*'"
    )
    status, body, _ = fetch(sql_url(base, sql) + "&_shape=arrays")
    assert status == 200
    assert json.loads(body)["rows"] == [[" 3.14|ab|7", "1,234,567", 3, "abc", "hi", 1, 0, 1, 1]]


# Ranges

MALFORMED_RANGES = [
    "bytes=x-1",
    "bytes=1-x",
    "bytes=-",
    "bytes=--1",
    "bytes=1--2",
    "bytes=1-2-3",
    "bytes=5-2",
    "bytes=99999999999-",
    "bytes=-0",
    "bytes=0-" + "9" * 4301,
    "bytes=" + "1" * 4301 + "-",
    "bytes=-" + "9" * 4301,
    "bytes= 1-2",
    "bytes=1 -2",
    "bytes=0x10-0x20",
    "bytes=1.5-2",
    "bytes=+1-2",
    "bytes=1-+2",
    "bytes=²-³",  # digits to str.isdigit(), not to int()
    "bytes=1e3-2e3",
    "bytes=\t1-2",
    "bytes=1-2;",
    "bytes=*",
    "bytes=",
    "bytes=18446744073709551616-18446744073709551617",
]


def test_malformed_ranges_are_not_satisfiable(site):
    base, path, folder = site
    status, page, _ = fetch(f"{base}/talks/episodes/talk")
    route = page.decode().split('src="/-/audio/')[1].split('"')[0]
    answers = [
        fetch(f"{base}/-/audio/{route}", headers={"Range": value})[0] for value in MALFORMED_RANGES
    ]
    report("malformed ranges", len(MALFORMED_RANGES), answers.count(416))
    assert len(MALFORMED_RANGES) == 25 and answers == [416] * 25
    assert fetch(f"{base}/-/audio/{route}", headers={"Range": "bytes=0-9"})[0] == 206


# Paths and files


def exposure_urls(base: str) -> list[str]:
    sql = [
        "select audio_path from episodes",
        "select * from episodes",
        "select * from pragma_database_list",
        "select file from pragma_database_list",
        "select group_concat(audio_path) from episodes",
        "select sql from sqlite_master",
    ]
    return [
        f"{base}/talks/episodes",
        f"{base}/talks/episodes.json",
        f"{base}/talks/episodes.csv",
        f"{base}/talks/episodes.json?_facet=audio_path",
        f"{base}/talks/episodes/talk",
        f"{base}/talks/episodes/talk.json",
        f"{base}/talks/chapters",
        f"{base}/talks/search?q=pause",
        f"{base}/talks",
        f"{base}/talks.json",
        f"{base}/-/databases.json",
        f"{base}/-/databases",
        f"{base}/-/metadata.json",
        f"{base}/-/plugins.json",
        f"{base}/-/settings.json",
        f"{base}/-/threads.json",
        f"{base}/-/versions.json",
        f"{base}/-/inspect.json",
        *(sql_url(base, query) for query in sql),
        *(sql_url(base, query).replace("talks.json", "talks.csv") for query in sql),
    ]


def test_no_page_shows_a_local_path_and_the_file_is_not_offered(site):
    base, path, folder = site
    urls = exposure_urls(base)
    leaks = [url for url in urls if str(folder).encode() in fetch(url)[1]]
    downloads = [f"{base}/talks.db", f"{base}/talks.db?_hash=1"]
    served = [url for url in downloads if fetch(url)[0] == 200]
    tried = len(urls) + len(downloads)
    report("paths and files", tried, tried - len(leaks) - len(served))
    assert leaks == [] and served == []
    status, body, _ = fetch(sql_url(base, "select id, audio_path from episodes") + "&_shape=array")
    assert status == 200 and b'"audio_path": null' in body.replace(b'":null', b'": null')


def test_audio_that_changed_since_ingest_is_not_served(site, tmp_path):
    base, path, folder = site
    status, page, _ = fetch(f"{base}/talks/episodes/talk")
    route = "/-/audio/" + page.decode().split('src="/-/audio/')[1].split('"')[0]
    audio = folder / "talk.mp3"
    original = audio.read_bytes()
    assert fetch(base + route)[0] == 200
    tried = refused = 0
    try:
        for swap in ("symlink", "same size, other bytes", "hard link elsewhere"):
            audio.unlink()
            if swap == "symlink":
                audio.symlink_to("/etc/passwd")
            elif swap == "same size, other bytes":
                audio.write_bytes(b"\0" * len(original))
            else:
                (tmp_path / "secret").write_bytes(b"secret")
                os.link(tmp_path / "secret", audio)
            status, body, _ = fetch(base + route)
            tried, refused = tried + 1, refused + (status == 404 and b"root:" not in body)
    finally:
        audio.unlink()
        audio.write_bytes(original)
    report("changed audio", tried, refused)
    assert refused == tried == 3
    assert fetch(base + route)[0] == 200  # the ingested file again


# Markup

XSS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "javascript:alert(1)",
    "</mark><script>alert(1)</script><mark>",
    "'\"><svg onload=alert(1)>",
]


def test_markup_in_queries_and_stored_text_is_escaped(site):
    base, _, _ = site
    pages = [f"{base}/talks/episodes", f"{base}/talks/chapters", f"{base}/talks/search?q=talk"]
    for payload in XSS:
        query = urllib.parse.urlencode({"q": payload})
        pages += [f"{base}/talks/search?{query}", f"{base}/talks/chapter_search?{query}"]
        pages.append(f"{base}/talks?" + urllib.parse.urlencode({"sql": f"select '{payload}' as x"}))
    dangerous = (b"<script>alert", b"<img src=x", b"<svg onload", b'href="javascript:')
    escaped = [url for url in pages if not any(bad in fetch(url)[1] for bad in dangerous)]
    report("markup (pages with a payload)", len(pages), len(escaped))
    assert len(escaped) == len(pages)
