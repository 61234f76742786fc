"""Search latency under load, printed as JSON on stdout.

    python benchmarks/search_load.py                  # 120 synthetic episodes, 200 at once
    python benchmarks/search_load.py --requests 500 --episodes 200

Builds a synthetic archive (500 sentence-sized segments per episode, about an hour of
speech each), serves it with `archive serve` exactly as users run it, and sends every
search at once through the `search` canned query. Latency is per request, from sending
to the last byte, so with every search sent at once it is mostly the wait for one of
Datasette's SQL threads; the first 50 searches are also timed one at a time (warming
the page cache) to show the work of one search.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.load import latency_summary, run_searches, search_phrases  # noqa: E402
from tests.server import archive_server  # noqa: E402
from tests.synthetic import build_synthetic_archive  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=120)
    parser.add_argument("--segments", type=int, default=500, help="segments per episode")
    parser.add_argument("--requests", type=int, default=200, help="searches sent at once")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db_path = Path(folder) / "load.db"
        print(f"building {args.episodes} synthetic episodes", file=sys.stderr)
        words = build_synthetic_archive(db_path, episodes=args.episodes, segments=args.segments)
        queries = search_phrases(words, args.requests)
        with archive_server(db_path) as base:
            one_at_a_time = [run_searches(base, "load", [query])[0][0] for query in queries[:50]]
            answers, wall = run_searches(base, "load", queries)
    alone = latency_summary(one_at_a_time, sum(a.seconds for a in one_at_a_time))
    report = {
        "episodes": args.episodes,
        "segments": args.episodes * args.segments,
        "concurrency": args.requests,
        **latency_summary(answers, wall),
        "mean_rows": round(sum(a.rows for a in answers) / len(answers), 1),
        "one_at_a_time_p50_ms": alone["p50_ms"],
        "one_at_a_time_p95_ms": alone["p95_ms"],
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
