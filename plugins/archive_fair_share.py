"""Slow SQL waits its turn, so that it cannot starve the searches.

Any visitor may run read-only SQL (``?sql=``), and a runaway query holds a SQL thread and a
core until ``sql_time_limit_ms`` ends it. Several at once would take every thread of a
server process, and every search would wait behind them. Here each server runs one request that carries its own SQL at a time (across the worker processes
of ``archive serve --workers N``, through a lock file that the server names in
``$ARCHIVE_SQL_TURN_LOCK``); others wait in line before they reach a thread, while the
search pages and tables go straight through, with a core left for them.
"""

from __future__ import annotations

import asyncio
import os
from contextlib import asynccontextmanager
from urllib.parse import parse_qs

from datasette import hookimpl

LOCK_VARIABLE = "ARCHIVE_SQL_TURN_LOCK"


def carries_own_sql(scope) -> bool:
    if scope["type"] != "http":
        return False
    return "sql" in parse_qs(scope.get("query_string", b"").decode("latin-1"))


@hookimpl
def asgi_wrapper():
    def wrap(app):
        turns = None

        async def fair_app(scope, receive, send):
            nonlocal turns
            if not carries_own_sql(scope):
                return await app(scope, receive, send)
            if turns is None:  # made inside the server's event loop
                turns = asyncio.Lock()
            async with turns, _between_processes():
                await app(scope, receive, send)

        return fair_app

    return wrap


@asynccontextmanager
async def _between_processes():
    path = os.environ.get(LOCK_VARIABLE)
    if not path:
        yield  # one server process: its own lock is enough
        return
    import fcntl

    with open(path, "a") as handle:
        await asyncio.to_thread(fcntl.flock, handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
