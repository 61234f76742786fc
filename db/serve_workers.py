"""``archive serve --workers N``: Datasette in N processes that share one listening socket.

One Datasette process runs its Python (routing, templates, and the search's own ranking
code) on one core, and answers SQL from a pool of ``num_sql_threads`` threads: with the
default 3, three slow queries at once make every other visitor wait. Here uvicorn starts N
worker processes (default: one per core), each a Datasette built by
``db.serve.build_datasette`` exactly as the single-process server is, each with
``SQL_THREADS_PER_WORKER`` threads. Every query keeps the time limit of ``SETTINGS``, so a
slow one holds one thread of one worker for at most that long.
"""

from __future__ import annotations

import inspect
import json
import os
import tempfile

from plugins.archive_limits import TURN_LOCK_VARIABLE

CONFIG_VARIABLE = "ARCHIVE_SERVE_WORKER_CONFIG"  # how the workers learn what to serve
SQL_THREADS_PER_WORKER = 4


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def serve_with_workers(db_path, *, host: str, port: int, workers: int, options) -> None:
    """Run until interrupted; ``options`` (ServeOptions) go to ``build_datasette`` in every
    worker."""
    import dataclasses
    import socket

    from uvicorn import Config, Server
    from uvicorn.supervisors import Multiprocess

    os.environ[CONFIG_VARIABLE] = json.dumps(
        {"db": str(db_path), "options": dataclasses.asdict(options)}
    )
    # plugins/archive_limits.py: one visitor's own SQL at a time across the workers
    lock = tempfile.NamedTemporaryFile(prefix="archive-sql-turn-", suffix=".lock")
    os.environ[TURN_LOCK_VARIABLE] = lock.name
    config = Config(
        "db.serve_workers:worker_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        lifespan="on",
        log_level="info",
    )
    listening = config.bind_socket()
    # uvicorn binds this socket itself (protocol 0), so asyncio does not turn Nagle's
    # algorithm off on the connections it accepts, and every keep-alive response waits
    # about 40 ms for a delayed ACK. Linux copies this flag to accepted connections.
    listening.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if "target" in inspect.signature(Multiprocess).parameters:  # uvicorn before 0.30
        supervisor = Multiprocess(config, target=Server(config).run, sockets=[listening])
    else:
        supervisor = Multiprocess(config, sockets=[listening])
    try:
        supervisor.run()
    except KeyboardInterrupt:
        pass
    finally:
        lock.close()


def worker_app():
    """The ASGI app of one worker (uvicorn calls this in each worker process)."""
    from .serve import ServeOptions, build_datasette

    config = json.loads(os.environ[CONFIG_VARIABLE])
    datasette = build_datasette(
        config["db"],
        ServeOptions(**config["options"]),
        settings={"num_sql_threads": SQL_THREADS_PER_WORKER},
    )
    return datasette.app()
