"""Search on a large archive, against naive FTS5 in the same run; JSON on stdout.

    python benchmarks/search_scale.py --hours 1000      # make benchmark-search-scale
    python benchmarks/search_scale.py --hours 5 --frequent 200 --champions 400   # smoke

Builds (once, cached) a synthetic archive of N hour-long episodes with English word
frequencies (benchmarks/scale_archive.py), then times each query class:

- in process: ``db.search.search`` (limit 20) and the naive query (FTS5 ranks every match,
  the search SQL before the champion lists), with recall@20 of each against exact bm25;
- ``archive search`` as a whole process (what it costs over the query: imports, start-up);
- the web ``search`` page of ``archive serve``, one at a time, and 200 at once (half rare
  words, half common); the naive SQL through Datasette's ``?sql=`` one at a time.

Also: database size with and without the search structures, ``reindex`` time, the time to
store one more episode into this archive and into an empty one, and ``archive publish``.
A markdown summary goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from scale_archive import PLANTED_PHRASE, cached_base_archive  # noqa: E402

from db.schema import open_archive  # noqa: E402
from db.search import SearchFilters, rank_with_fts5, search  # noqa: E402
from db.search_index import rebuild_search_index, search_index_summary  # noqa: E402

ARCHIVE = Path(sys.executable).parent / "archive"
NAIVE_SQL = """
select segments.id as segment_id, episodes.title as episode_title,
  chapters.title as chapter_title, segments.start, segments.end,
  snippet(segments_fts, 0, '<mark>', '</mark>', '…', 16) as snippet,
  bm25(segments_fts) as rank
from segments_fts
  join segments on segments.id = segments_fts.rowid
  join chapters on chapters.id = segments.chapter_id
  join episodes on episodes.id = segments.episode_id
where segments_fts match :q
order by rank, segments.episode_id, segments.start
limit 20
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=10, help="timings per query")
    parser.add_argument("--frequent", type=int, help="list terms in more segments than this")
    parser.add_argument("--champions", type=int, help="entries per champion list")
    parser.add_argument("--concurrent", type=int, default=200)
    parser.add_argument("--skip-web", action="store_true")
    args = parser.parse_args()
    path, report = indexed_archive(args)
    db = open_archive(path)
    classes = query_classes(db, args.hours)
    report["classes"] = {
        name: in_process(db, queries, args.repeats) for name, queries in classes.items()
    }
    for name, queries in classes.items():
        report["classes"][name]["process"] = as_process(path, queries[0], max(3, args.repeats // 3))
    if not args.skip_web:
        report["web"] = on_the_web(path, classes, args)
        for name in classes:
            report["classes"][name]["web_one_at_a_time"] = report["web"]["one_at_a_time"][name]
            report["classes"][name]["web_naive_one_at_a_time"] = report["web"]["naive"][name]
    report["store_one_episode"] = store_one_more(path)
    report["publish_s"] = publish_time(path)
    print(json.dumps(report, indent=2))
    print_table(report, sys.stderr)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- the archive --------------------------------------------------------------------------


def indexed_archive(args) -> tuple[Path, dict]:
    """The cached base archive, migrated and reindexed (cached too); sizes and timings."""
    base = cached_base_archive(args.hours)
    tag = f"f{args.frequent or 'd'}-c{args.champions or 'd'}"
    path = base.with_name(base.name.replace("-base.db", f"-indexed-{tag}.db"))
    if not path.exists():
        log(f"indexing {base.name}")
        partial = path.with_suffix(".partial")
        shutil.copyfile(base, partial)
        db = open_archive(partial)  # m006 builds the search structures
        rebuild_search_index(db, frequent=args.frequent, champions=args.champions)
        db.execute("vacuum")
        db.close()
        partial.rename(path)
    db = open_archive(path)
    started = time.perf_counter()
    rebuild_search_index(db)  # settings stay as stored
    reindex_s = time.perf_counter() - started
    extra = db.execute(
        "select sum(pgsize) from dbstat where name like 'search\\_%' escape '\\'"
    ).fetchone()[0]
    size = path.stat().st_size
    report = {
        "hours": args.hours,
        "segments": db.execute("select count(*) from segments").fetchone()[0],
        "search_index": search_index_summary(db),
        "reindex_s": round(reindex_s, 1),
        "db_bytes": size,
        "db_bytes_without_search_structures": size - extra,
        "search_structures_added_pct": round(100 * extra / (size - extra), 1),
    }
    db.close()
    return path, report


def query_classes(db, hours: int) -> dict[str, list[str]]:
    """A few queries per class, picked by how many segments hold them."""
    total = db.execute("select count(*) from segments").fetchone()[0]
    terms = db.execute(
        "select term, df from search_terms where term glob '[a-z]*' and length(term) > 2"
    ).fetchall()

    def near(target: float, count: int = 3) -> list[str]:
        ranked = sorted(terms, key=lambda row: abs(row[1] - target))
        return [term for term, _ in ranked[:count]]

    common = near(0.25 * total, 4)
    return {
        "rare (~50 segments)": near(50),
        "medium (~1%)": near(0.01 * total),
        "common (~25%)": common[:3],
        "the (~50%)": ["the"],
        "two common words": [
            f"{common[0]} {common[1]}",
            f"{common[1]} {common[2]}",
            f"{common[0]} {common[3]}",
        ],
        "quoted phrase": [f'"{PLANTED_PHRASE}"'],
        "prefix pol*": ["pol*"],
    }


# --- in process ---------------------------------------------------------------------------


def in_process(db, queries: list[str], repeats: int) -> dict:
    fast, naive, recall, naive_recall = [], [], [], []
    for query in queries:
        truth = [
            segment_id for segment_id, _ in rank_with_fts5(db.conn, query, SearchFilters(), 20)
        ]
        for _ in range(repeats):
            started = time.perf_counter()
            hits = search(db, query, limit=20).hits
            fast.append(time.perf_counter() - started)
            started = time.perf_counter()
            naive_rows = db.execute(NAIVE_SQL, {"q": query}).fetchall()
            naive.append(time.perf_counter() - started)
        recall.append(overlap([hit["segment_id"] for hit in hits], truth))
        naive_recall.append(overlap([row[0] for row in naive_rows], truth))
    df = db.execute(
        "select count(*) from segments_fts where segments_fts match ?", [queries[0]]
    ).fetchone()[0]
    return {
        "queries": queries,
        "matches": df,
        "in_process": summary(fast),
        "naive_in_process": summary(naive),
        "recall_at_20": round(min(recall), 3),
        "mean_recall_at_20": round(statistics.mean(recall), 3),
        "naive_recall_at_20": round(min(naive_recall), 3),
    }


def overlap(found: list[int], truth: list[int]) -> float:
    return len(set(found) & set(truth)) / len(truth) if truth else 1.0


def summary(seconds: list[float]) -> dict:
    ms = sorted(s * 1000 for s in seconds)
    cuts = statistics.quantiles(ms, n=100, method="inclusive") if len(ms) > 1 else ms * 99
    return {"p50_ms": round(cuts[49], 1), "p95_ms": round(cuts[94], 1)}


def as_process(path: Path, query: str, runs: int) -> dict:
    """``archive search`` end to end, and the same search in process, for the difference."""
    import resource

    seconds, cpu = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(
            [ARCHIVE, "search", query, "--db", path, "--json"], check=True, capture_output=True
        )
        seconds.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    # On a busy machine the wall time is mostly waiting for a core; CPU time is the cost.
    return {**summary(seconds), "cpu_p50_ms": round(statistics.median(cpu) * 1000, 1)}


# --- on the web ---------------------------------------------------------------------------


def on_the_web(path: Path, classes: dict, args) -> dict:
    from tests.load import latency_summary, run_searches
    from tests.server import archive_server

    database = path.stem
    with archive_server(path) as base:
        one = {
            name: web_one_at_a_time(base, database, queries, args.repeats)
            for name, queries in classes.items()
        }
        naive = {name: web_naive(base, database, queries[0]) for name, queries in classes.items()}
        rare, common = classes["rare (~50 segments)"], classes["common (~25%)"]
        mixed = [(rare if i % 2 else common)[i % 3] for i in range(args.concurrent)]
        answers, wall = run_searches(base, database, mixed)
        naive_answers, naive_wall = run_naive_at_once(base, database, mixed)
    return {
        "one_at_a_time": one,
        "naive": naive,
        "at_once": {
            **latency_summary(answers, wall),
            "errors": sum(a.status != 200 for a in answers),
        },
        "naive_at_once": {
            **latency_summary(naive_answers, naive_wall),
            "errors": sum(a.status != 200 for a in naive_answers),
        },
    }


def web_one_at_a_time(base: str, database: str, queries: list[str], repeats: int) -> dict:
    import httpx

    seconds, errors = [], 0
    with httpx.Client(base_url=base, timeout=60) as client:
        for query in queries:
            for _ in range(repeats):
                started = time.perf_counter()
                response = client.get(
                    f"/{database}/search.json", params={"q": query, "_shape": "array"}
                )
                seconds.append(time.perf_counter() - started)
                errors += response.status_code != 200
    return {**summary(seconds), "errors": errors}


def web_naive(base: str, database: str, query: str, runs: int = 5) -> dict:
    import httpx

    seconds, errors = [], 0
    with httpx.Client(base_url=base, timeout=60) as client:
        for _ in range(runs):
            started = time.perf_counter()
            response = client.get(
                f"/{database}.json", params={"sql": NAIVE_SQL, "q": query, "_shape": "array"}
            )
            seconds.append(time.perf_counter() - started)
            errors += response.status_code != 200
    return {**summary(seconds), "errors": errors}


def run_naive_at_once(base: str, database: str, queries: list[str]):
    import asyncio

    import httpx

    from tests.load import Answer

    async def fire():
        limits = httpx.Limits(max_connections=len(queries), max_keepalive_connections=0)
        async with httpx.AsyncClient(base_url=base, limits=limits, timeout=120) as client:

            async def one(query):
                started = time.perf_counter()
                response = await client.get(
                    f"/{database}.json", params={"sql": NAIVE_SQL, "q": query, "_shape": "array"}
                )
                return Answer(query, response.status_code, time.perf_counter() - started, 0)

            return await asyncio.gather(*(one(query) for query in queries))

    started = time.perf_counter()
    answers = asyncio.run(fire())
    return answers, time.perf_counter() - started


# --- writing --------------------------------------------------------------------------------


def store_one_more(path: Path, runs: int = 3) -> dict:
    """Seconds to store one more hour-long episode into this archive, and into an empty one."""
    import random

    from db.store import store_episode
    from tests.synthetic import synthetic_episode

    words = [
        row[0]
        for row in open_archive(path).execute(
            "select term from search_terms order by df desc limit 3000"
        )
    ]
    timings = {"into_this_archive_s": [], "into_an_empty_archive_s": []}
    with tempfile.TemporaryDirectory() as folder:
        big = Path(folder) / "big.db"
        shutil.copyfile(path, big)
        flush_to_disk(big)  # else the first checkpoint waits for the copy's writeback
        targets = {
            "into_this_archive_s": open_archive(big),
            "into_an_empty_archive_s": open_archive(Path(folder) / "empty.db"),
        }
        for run in range(runs):
            episode = synthetic_episode(900_000 + run, random.Random(run), words, 900, 20)
            for name, db in targets.items():
                started = time.perf_counter()
                store_episode(db, episode)
                timings[name].append(time.perf_counter() - started)
    result = {name: round(statistics.median(values), 3) for name, values in timings.items()}
    result["ratio"] = round(result["into_this_archive_s"] / result["into_an_empty_archive_s"], 2)
    return result


def flush_to_disk(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def publish_time(path: Path) -> float:
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        subprocess.run(
            [ARCHIVE, "publish", Path(folder) / "site", "--db", path, "--no-audio"],
            check=True,
            capture_output=True,
        )
        return round(time.perf_counter() - started, 1)


def print_table(report: dict, stream) -> None:
    rows = [
        "| class | matches | search p50/p95 ms | naive p50/p95 ms | recall@20 | "
        "`archive search` process p50 ms (CPU) | web p50/p95 ms | naive web p50/p95 ms |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, c in report["classes"].items():
        web = c.get("web_one_at_a_time", {})
        naive_web = c.get("web_naive_one_at_a_time", {})
        rows.append(
            f"| {name} | {c['matches']} | {c['in_process']['p50_ms']} / {c['in_process']['p95_ms']}"
            f" | {c['naive_in_process']['p50_ms']} / {c['naive_in_process']['p95_ms']}"
            f" | {c['recall_at_20']} | {c['process']['p50_ms']} ({c['process']['cpu_p50_ms']})"
            f" | {web.get('p50_ms', '-')} / {web.get('p95_ms', '-')}"
            f" | {naive_web.get('p50_ms', '-')} / {naive_web.get('p95_ms', '-')} |"
        )
    web = report.get("web", {})
    for key in ("at_once", "naive_at_once"):
        if key in web:
            rows.append(f"\n{key}: " + json.dumps(web[key]))
    print("\n".join(rows), file=stream)


if __name__ == "__main__":
    main()
