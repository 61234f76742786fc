"""The shared archive is read-only, and no query can run away with the server.

Datasette already opens immutable files read-only, refuses SQL that is not a SELECT and
ends a query at ``sql_time_limit_ms``; these rules hold even where that would not (a
file served mutable, a statement that slips past its check, a value built in a single
SQLite call, which no time limit interrupts). Self-contained: a published bundle needs
only Datasette.
"""

from __future__ import annotations

import sqlite3

from datasette import hookimpl

# Largest string or blob a query may build: randomblob(), group_concat(), printf() stop
# with "string or blob too big" instead of filling memory. 4 MB is still about 70 hours
# of speech in one chapter's text.
MAX_VALUE_BYTES = 4_000_000
READ_METHODS = {"GET", "HEAD", "OPTIONS"}


@hookimpl
def prepare_connection(conn, database):
    if database == "_internal":
        return  # Datasette's own in-memory catalogue, which it writes to
    conn.execute("PRAGMA query_only = 1")
    if hasattr(conn, "setlimit"):  # Python 3.11+
        conn.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
        conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)


@hookimpl
def asgi_wrapper():
    """Answer 405 to any request that could ask for a change (POST, PUT, DELETE, ...)."""

    def wrap(app):
        async def read_only_app(scope, receive, send):
            if scope["type"] == "http" and scope["method"] not in READ_METHODS:
                await send(
                    {
                        "type": "http.response.start",
                        "status": 405,
                        "headers": [
                            [b"allow", b"GET, HEAD, OPTIONS"],
                            [b"content-type", b"text/plain; charset=utf-8"],
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": b"This archive is read-only\n"})
                return
            await app(scope, receive, send)

        return read_only_app

    return wrap
