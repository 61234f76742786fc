"""Runaway SQL from visitors waits its turn; searches go on meanwhile (a real server)."""

import asyncio
import time

import httpx

from .server import archive_server
from .synthetic import build_synthetic_archive

RUNAWAY = "with recursive c(x) as (select 1 union all select x + 1 from c) select count(*) from c"


def test_searches_are_not_starved_by_runaway_queries(tmp_path):
    path = tmp_path / "fair.db"
    words = build_synthetic_archive(path, episodes=3, segments=50, chapters=2)

    async def visit(base):
        limits = httpx.Limits(max_connections=50, max_keepalive_connections=0)
        async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:

            async def get(path, **params):
                response = await client.get(path, params=params)
                return response.status_code, time.perf_counter()

            runaway = [get("/fair.json", sql=RUNAWAY) for _ in range(4)]
            searches = [get("/fair/search.json", q=word, _shape="array") for word in words[:8]]
            answers = await asyncio.gather(*runaway, *searches)
            return answers[: len(runaway)], answers[len(runaway) :]

    with archive_server(path) as base:
        slow, quick = asyncio.run(visit(base))
    assert {status for status, _ in slow} == {400}  # each ended by the time limit
    assert {status for status, _ in quick} == {200}
    # Four runaway queries, one at a time per server process, end over several seconds;
    # every search answered before the last of them.
    assert max(done for _, done in quick) < max(done for _, done in slow)
