"""What the guarded SQL functions (plugins/archive_limits.py) cost on ordinary queries.

Runs each query over 60,000 sentence-sized rows on a plain connection and on one with
the guards installed, in the same process, and prints the times and their ratio as JSON.

    python benchmarks/sql_guards.py
"""

from __future__ import annotations

import json
import sqlite3
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from plugins import archive_limits  # noqa: E402

ROWS = 60_000
QUERIES = {
    "like '%words%' (guarded fast path)": "select count(*) from t where text like '%pause%'",
    "like 'a_c%' (SQLite's own, delegated)": "select count(*) from t where text like 'with_full%'",
    "instr": "select count(*) from t where instr(text, 'pause') > 0",
    "replace (word count)": "select sum(length(text) - length(replace(text, ' ', ''))) from t",
    "printf": "select count(printf('%.2f %s', rowid / 3.0, text)) from t",
}


def connection(guarded: bool) -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    conn.execute("create table t (text)")
    sentence = "With full text search, a unilateral pause leads straight to row {}."
    conn.executemany("insert into t values (?)", ((sentence.format(n),) for n in range(ROWS)))
    if guarded:
        archive_limits.install_functions(conn)
    return conn


def seconds(conn, sql: str, repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        conn.execute(sql).fetchall()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    plain, guarded = connection(False), connection(True)
    results = {}
    for name, sql in QUERIES.items():
        assert plain.execute(sql).fetchall() == guarded.execute(sql).fetchall(), name
        base, guard = seconds(plain, sql), seconds(guarded, sql)
        results[name] = {
            "builtin_s": round(base, 4),
            "guarded_s": round(guard, 4),
            "ratio": round(guard / base, 2),
        }
    print(json.dumps({"rows": ROWS, "median_of": 5, "queries": results}, indent=2))


if __name__ == "__main__":
    main()
