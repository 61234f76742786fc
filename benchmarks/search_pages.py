"""The results page's server time against the search it shows, printed as JSON on stdout.

    python benchmarks/search_pages.py                   # 120 synthetic episodes, 100 queries
    python benchmarks/search_pages.py --episodes 40 --queries 50
    python benchmarks/search_pages.py --db benchmarks/.cache/scale-1000h-s1-v1-indexed-fd-cd.db

Builds a synthetic archive (as benchmarks/search_load.py does), or copies an existing one
(``--db``: the 1,000-hour archive that benchmarks/search_scale.py caches, say; the copy
goes to a temporary folder, so the file and its folder are only read), then, in one
process and for each query in turn: the search itself (db/search.py's ``search()``, one
page of 20 hits, on its own read-only SQLite connection), ``/-/search?q=`` and
``/-/search.json?q=`` through in-process Datasette (request to the last byte: count,
chapter titles, filter choices, grouping and the template included), and Datasette's
bare ``/-/versions.json``, what any request costs before a page does anything.

The queries: words and two-word phrases people look for, and the archive's most common
words (the slowest searches). The target is the page's median at most 1.5x the search's;
the ratio is what to compare between machines, not the milliseconds. Datasette's fixed
cost (about 1 ms here, the in-process client included) weighs most where a search takes
1 to 2 ms, so the report gives the page's time beyond the search in milliseconds too.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from db.schema import open_archive_read_only  # noqa: E402
from db.search import search  # noqa: E402
from db.serve import build_datasette  # noqa: E402
from tests.load import search_phrases  # noqa: E402
from tests.synthetic import build_synthetic_archive  # noqa: E402

PAGE_SIZE = 20  # as plugins/archive_pages.py shows


def milliseconds(samples: list[float]) -> dict:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))] * 1000, 2),
    }


def time_searches(db_path: Path, queries: list[str]) -> list[float]:
    db = open_archive_read_only(db_path)
    seconds = []
    for query in queries:
        started = time.perf_counter()
        search(db, query, limit=PAGE_SIZE, lenient=True)
        seconds.append(time.perf_counter() - started)
    db.close()
    return seconds


async def time_pages(ds, queries: list[str], path: str) -> list[float]:
    seconds = []
    for query in queries:
        url = f"{path}?{urllib.parse.urlencode({'q': query})}"
        started = time.perf_counter()
        response = await ds.client.get(url)
        seconds.append(time.perf_counter() - started)
        assert response.status_code == 200, (url, response.status_code)
    return seconds


async def measure(db_path: Path, queries: list[str]) -> dict[str, list[float]]:
    ds = build_datasette(db_path)
    time_searches(db_path, queries[:10])  # warm the page cache and Datasette
    await time_pages(ds, queries[:10], "/-/search")
    # Interleaved rounds, so that a busy moment on a shared machine hits all alike.
    times: dict[str, list[float]] = {"search": [], "page": [], "json": [], "datasette": []}
    for start in range(0, len(queries), 10):
        batch = queries[start : start + 10]
        times["search"] += time_searches(db_path, batch)
        times["page"] += await time_pages(ds, batch, "/-/search")
        times["json"] += await time_pages(ds, batch, "/-/search.json")
        # Datasette's cheapest answer: what any request costs before a page does anything.
        times["datasette"] += await time_pages(ds, batch, "/-/versions.json")
    return times


def ratio_by_search_cost(times: dict[str, list[float]], slow_ms: float) -> dict:
    """Median page/search ratio for searches under and over ``slow_ms``."""
    split: dict[str, list[float]] = {"fast": [], "slow": []}
    for search_s, page_s in zip(times["search"], times["page"]):
        split["slow" if search_s * 1000 >= slow_ms else "fast"].append(page_s / search_s)
    return {
        f"searches_under_{slow_ms:g}_ms": len(split["fast"]),
        f"page_over_search_under_{slow_ms:g}_ms": round(statistics.median(split["fast"]), 2)
        if split["fast"]
        else None,
        f"searches_over_{slow_ms:g}_ms": len(split["slow"]),
        f"page_over_search_over_{slow_ms:g}_ms": round(statistics.median(split["slow"]), 2)
        if split["slow"]
        else None,
    }


def vocabulary(db_path: Path) -> list[str]:
    """An existing archive's words, most common first (from the search index's document
    frequencies, or FTS5's own vocabulary where there is no search index)."""
    with sqlite3.connect(db_path) as conn:
        try:
            rows = conn.execute("select term from search_terms order by df desc, term")
            return [row[0] for row in rows]
        except sqlite3.OperationalError:
            conn.execute("create virtual table temp.vocab using fts5vocab(main, segments_fts, row)")
            rows = conn.execute("select term from temp.vocab order by doc desc, term")
            return [row[0] for row in rows]


def archive_size(db_path: Path) -> dict:
    with sqlite3.connect(db_path) as conn:
        episodes, seconds = conn.execute(
            "select count(*), coalesce(sum(duration), 0) from episodes"
        ).fetchone()
        (segments,) = conn.execute("select count(*) from segments").fetchone()
    return {"episodes": episodes, "hours": round(seconds / 3600, 1), "segments": segments}


def page_overhead(times: dict[str, list[float]]) -> dict:
    """What the page costs beyond the search it shows, per query (ms), and beyond that
    again Datasette's bare request (the page's own work: count, chapters, template)."""
    beyond = [(p - s) * 1000 for p, s in zip(times["page"], times["search"])]
    bare_ms = statistics.median(times["datasette"]) * 1000
    return {
        "page_minus_search_ms": {
            "p50": round(statistics.median(beyond), 2),
            "p95": round(sorted(beyond)[int(0.95 * (len(beyond) - 1))], 2),
        },
        "page_minus_search_minus_bare_request_p50_ms": round(
            statistics.median(beyond) - bare_ms, 2
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, help="time an existing archive (a copy of it)")
    parser.add_argument("--episodes", type=int, default=120, help="synthetic episodes")
    parser.add_argument("--segments", type=int, default=500, help="segments per episode")
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--common", type=int, default=10, help="of which the most common words")
    parser.add_argument("--slow-ms", type=float, default=5.0, help="a search this slow or more")
    parser.add_argument("--target", type=float, default=1.5, help="page/search median at most")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db_path = Path(folder) / "pages.db"
        if args.db:
            print(f"copying {args.db}", file=sys.stderr)
            shutil.copyfile(args.db, db_path)
            wal = Path(f"{args.db}-wal")  # what a live archive has not checkpointed yet
            if wal.exists():
                shutil.copyfile(wal, f"{db_path}-wal")
            words = vocabulary(db_path)
        else:
            print(f"building {args.episodes} synthetic episodes", file=sys.stderr)
            words = build_synthetic_archive(db_path, episodes=args.episodes, segments=args.segments)
        # What people look for, plus the archive's most common words (the slowest searches).
        queries = search_phrases(words, args.queries - args.common) + words[: args.common]
        size = archive_size(db_path)
        times = asyncio.run(measure(db_path, queries))
    search_ms, page_ms = milliseconds(times["search"]), milliseconds(times["page"])
    ratio_p50 = round(page_ms["p50_ms"] / search_ms["p50_ms"], 2)
    report = {
        "archive": str(args.db) if args.db else "synthetic",
        **size,
        "queries": len(queries),
        "search": search_ms,
        "results_page": page_ms,
        "results_json": milliseconds(times["json"]),
        "datasette_versions_json": milliseconds(times["datasette"]),
        "page_over_search_p50": ratio_p50,
        "page_over_search_p95": round(page_ms["p95_ms"] / search_ms["p95_ms"], 2),
        "page_over_search_per_query_median": round(
            statistics.median(p / s for p, s in zip(times["page"], times["search"])), 2
        ),
        f"meets_target_{args.target:g}x": ratio_p50 <= args.target,
        **page_overhead(times),
        **ratio_by_search_cost(times, args.slow_ms),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
