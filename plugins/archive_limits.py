"""A query can only cost what the time limit allows, and shows no local paths.

Datasette ends a query at ``sql_time_limit_ms`` through SQLite's progress handler, which
runs between the steps of a query, never inside one function call. A few built-in
functions can spend minutes in one call on megabyte values (``printf('%.*c', 1e9, 'x')``
loops a billion times; ``instr``, ``replace``, ``trim``, ``LIKE`` and ``GLOB`` compare
every position of one string with every position of the other). Here they are replaced,
on every connection, by versions that refuse such a call at once ("string or blob too
big": more than COST_BUDGET character comparisons, or a printf width over the value cap)
and otherwise give SQLite's own answer, from Python's string methods where they agree
with SQLite's, else from the built-in on a private in-memory connection.

Queries a visitor writes (``?sql=``, ``?_where=``) and searches no one would type (a
parameter over 1,000 characters, such as 5,000 OR-ed terms) may use all but one of
Datasette's SQL threads at once; more wait their turn, so that ten runaway queries sent
together cannot hold every thread for their second each while searches and pages queue
behind them. Under ``archive serve --workers N`` they also take turns across the worker
processes, one at a time, through a lock file the server names in ``$ARCHIVE_SQL_TURN_LOCK``:
each worker then keeps its cores for searches and pages.

The authorizer refuses ATTACH, writes and ``fts3_tokenizer``; unless the plugin config
says ``show_paths``, it blanks every ``*path`` column (``episodes.audio_path``) and the
``file`` column of ``pragma_database_list``: where SQL could read a local path.
"""

from __future__ import annotations

import asyncio
import functools
import os
import re
import sqlite3
import threading
from contextlib import asynccontextmanager
from urllib.parse import parse_qs

from datasette import hookimpl
from datasette.utils.asgi import Response

MAX_VALUE_BYTES = 4_000_000  # as archive_read_only.py caps values
# Character comparisons one call may make: about a tenth of a second in SQLite's loops.
COST_BUDGET = 50_000_000
MAX_SQL_BYTES = 20_000  # a statement longer than this is refused before it is parsed
PLUGIN_NAME = "transcript-archive"
OWN_SQL_PARAMETERS = {"sql", "_where"}  # requests that run SQL the visitor wrote
LONG_PARAMETER = 1000  # characters: no one types a search this long (5,000 terms do)
MAX_WAITING = 20  # such requests queued beyond this are answered 503 at once
TURN_LOCK_VARIABLE = "ARCHIVE_SQL_TURN_LOCK"  # set by archive serve --workers N

_PRINTF_SPEC = re.compile(r"%[-+ 0#,!]*(\*|\d+)?(?:\.(\*|\d+))?(?:ll?)?(.)", re.DOTALL)
_LEADING_NUMBER = re.compile(r"\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?")
_private = threading.local()

WRITE_ACTIONS = {
    sqlite3.SQLITE_INSERT,
    sqlite3.SQLITE_UPDATE,
    sqlite3.SQLITE_DELETE,
    sqlite3.SQLITE_ATTACH,
    sqlite3.SQLITE_DETACH,
    sqlite3.SQLITE_ALTER_TABLE,
    sqlite3.SQLITE_REINDEX,
    sqlite3.SQLITE_ANALYZE,
    sqlite3.SQLITE_CREATE_INDEX,
    sqlite3.SQLITE_CREATE_TABLE,
    sqlite3.SQLITE_CREATE_TRIGGER,
    sqlite3.SQLITE_CREATE_VIEW,
    sqlite3.SQLITE_CREATE_VTABLE,
    sqlite3.SQLITE_DROP_INDEX,
    sqlite3.SQLITE_DROP_TABLE,
    sqlite3.SQLITE_DROP_TRIGGER,
    sqlite3.SQLITE_DROP_VIEW,
    sqlite3.SQLITE_DROP_VTABLE,
}
SCHEMA_TABLES = {"sqlite_master", "sqlite_temp_master"}
DENIED_FUNCTIONS = {"fts3_tokenizer", "load_extension"}


def builtin(sql: str, *args):
    """SQLite's own function, on this thread's private in-memory connection."""
    conn = getattr(_private, "conn", None)
    if conn is None:
        conn = _private.conn = sqlite3.connect(":memory:")
        conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)
    return conn.execute(sql, args).fetchone()[0]


def size(value) -> int:
    return len(value) if isinstance(value, (str, bytes)) else 24  # a number as text


def within_budget(*pairs) -> None:
    if any(size(a) * size(b) > COST_BUDGET for a, b in pairs):
        raise OverflowError("too costly")  # SQLite reports: string or blob too big


def guarded_printf(name: str):
    def printf(fmt, *args):
        if type(fmt) is str:
            takes_width_from_args = checked_format(fmt)
            if takes_width_from_args and any(as_width(a) > MAX_VALUE_BYTES for a in args):
                raise OverflowError("printf width")
        return builtin(call_sql(name, len(args) + 1), fmt, *args)

    return printf


@functools.lru_cache(maxsize=256)
def call_sql(name: str, arguments: int) -> str:
    return f"select {name}({', '.join('?' * arguments)})"


@functools.lru_cache(maxsize=1024)
def checked_format(fmt: str) -> bool:
    """Refuses a width or precision written past the cap; True when a ``*`` takes one
    from the arguments. With a ``*`` anywhere, every argument counts as a possible width:
    which argument a ``*`` takes depends on conversions (``%n`` takes none) that are not
    worth mirroring."""
    numbers = [n for spec in _PRINTF_SPEC.finditer(fmt) for n in spec.group(1, 2) if n]
    written = [n for n in numbers if n != "*"]
    if any(len(n) > 9 or int(n) > MAX_VALUE_BYTES for n in written):
        raise OverflowError("printf width")
    return "*" in numbers


def as_width(value) -> float:
    """The number SQLite reads from an argument: a text's leading digits, if any."""
    if isinstance(value, (bytes, str)):
        text = value.decode("latin-1") if isinstance(value, bytes) else value
        match = _LEADING_NUMBER.match(text)
        return abs(float(match.group())) if match else 0
    return abs(float(value)) if isinstance(value, (int, float)) else 0


def instr(haystack, needle):
    if type(haystack) is str and type(needle) is str:  # the common case, kept quick
        if len(haystack) * len(needle) > COST_BUDGET:
            raise OverflowError("too costly")
        return haystack.find(needle) + 1
    if haystack is None or needle is None:
        return None
    within_budget((haystack, needle))
    if type(haystack) is type(needle) is bytes:
        return haystack.find(needle) + 1
    return builtin("select instr(?, ?)", haystack, needle)


def replace(text, old, new):
    if text is None or old is None or new is None:
        return None
    within_budget((text, old))
    if isinstance(text, str) and isinstance(old, str) and isinstance(new, str):
        if old == "":
            return text
        if len(text) + text.count(old) * (len(new) - len(old)) > MAX_VALUE_BYTES:
            raise OverflowError("replace result")
        return text.replace(old, new)
    return builtin("select replace(?, ?, ?)", text, old, new)


def guarded_trim(name: str):
    def trim(text, characters):
        within_budget((text, characters))
        return builtin(f"select {name}(?, ?)", text, characters)

    return trim


def like(pattern, text, escape=None):
    if escape is None and type(pattern) is str and type(text) is str:
        if len(pattern) * len(text) > COST_BUDGET:
            raise OverflowError("too costly")
        matcher = simple_like(pattern)
        if matcher is not None:
            return int(matcher(text) is not None)
    if pattern is None or text is None:
        return None
    within_budget((pattern, text))
    if escape is None:
        return builtin("select like(?, ?)", pattern, text)
    return builtin("select like(?, ?, ?)", pattern, text, escape)


@functools.lru_cache(maxsize=1024)
def simple_like(pattern: str):
    """A matcher for ``words``, ``words%``, ``%words`` and ``%words%`` (the patterns
    Datasette's filters write), folding ASCII letters only as SQLite's LIKE does; None
    for any other pattern, which SQLite's own LIKE then answers."""
    starts, ends = pattern.startswith("%"), pattern.endswith("%") and len(pattern) > 1
    words = pattern[1 if starts else 0 : len(pattern) - 1 if ends else len(pattern)]
    if "%" in words or "_" in words:
        return None
    compiled = re.compile(re.escape(words), re.IGNORECASE | re.ASCII | re.DOTALL)
    if starts and ends:
        return compiled.search
    if starts:
        return re.compile(re.escape(words) + r"\Z", re.IGNORECASE | re.ASCII | re.DOTALL).search
    return compiled.match if ends else compiled.fullmatch


def glob(pattern, text):
    if pattern is None or text is None:
        return None
    within_budget((pattern, text))
    return builtin("select glob(?, ?)", pattern, text)


def install_functions(conn) -> None:
    for name in ("printf", "format"):
        conn.create_function(name, -1, guarded_printf(name), deterministic=True)
    for name in ("trim", "ltrim", "rtrim"):
        conn.create_function(name, 2, guarded_trim(name), deterministic=True)
    conn.create_function("instr", 2, instr, deterministic=True)
    conn.create_function("replace", 3, replace, deterministic=True)
    conn.create_function("like", 2, like, deterministic=True)
    conn.create_function("like", 3, like, deterministic=True)
    conn.create_function("glob", 2, glob, deterministic=True)


def authorizer(show_paths: bool):
    def authorize(action, first, second, database, source):
        # Opening an FTS5 table asks to update sqlite_master as it declares its columns.
        if action in WRITE_ACTIONS and first not in SCHEMA_TABLES:
            return sqlite3.SQLITE_DENY
        if action == sqlite3.SQLITE_FUNCTION and second in DENIED_FUNCTIONS:
            return sqlite3.SQLITE_DENY
        if show_paths:
            return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_READ and is_path_column(first, second):
            return sqlite3.SQLITE_IGNORE  # the column reads as NULL
        return sqlite3.SQLITE_OK

    return authorize


def is_path_column(table: str | None, column: str | None) -> bool:
    """``*path`` columns, and ``file`` in ``pragma_database_list`` (Datasette's own
    ``PRAGMA database_list`` statement reads no column, so it still works)."""
    if not column:
        return False
    column = column.lower()
    return column.endswith("path") or (table == "pragma_database_list" and column == "file")


def shows_paths(datasette) -> bool:
    return bool((datasette.plugin_config(PLUGIN_NAME) or {}).get("show_paths"))


@hookimpl
def prepare_connection(conn, database, datasette):
    if database == "_internal":
        return  # Datasette's own in-memory catalogue, which it writes to
    conn.setlimit(sqlite3.SQLITE_LIMIT_SQL_LENGTH, MAX_SQL_BYTES)
    install_functions(conn)
    served = datasette.databases.get(database)
    if served is not None and served.path is not None:  # in memory: no paths, nothing kept
        conn.set_authorizer(authorizer(shows_paths(datasette)))


async def databases_without_paths(datasette):
    """``/-/databases.json`` as Datasette lists it, less each file's path."""
    listed = [
        {"name": name, "route": db.route, "is_mutable": db.is_mutable, "is_memory": db.is_memory}
        for name, db in datasette.databases.items()
        if name != "_internal"
    ]
    return Response.json(listed)


@hookimpl
def register_routes(datasette):
    if shows_paths(datasette):
        return []
    return [(r"^/-/databases(\.json)?$", databases_without_paths)]


def is_heavy(scope) -> bool:
    """A request that runs SQL the visitor wrote, or a search no one would type."""
    parameters = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    if not OWN_SQL_PARAMETERS.isdisjoint(parameters):
        return True
    return any(len(value) > LONG_PARAMETER for values in parameters.values() for value in values)


@hookimpl
def asgi_wrapper(datasette):
    def wrap(app):
        gate, waiting = None, 0

        async def heavy_in_turn(scope, receive, send):
            nonlocal gate, waiting
            if scope["type"] != "http" or not is_heavy(scope):
                return await app(scope, receive, send)
            if waiting >= MAX_WAITING:
                busy = Response.text("Too many queries at once; try again\n", status=503)
                return await busy.asgi_send(send)
            if gate is None:  # made inside the server's event loop
                gate = asyncio.Semaphore(max(1, datasette.setting("num_sql_threads") - 1))
            waiting += 1
            try:
                await gate.acquire()
            finally:  # a request abandoned while waiting leaves the queue too
                waiting -= 1
            try:
                async with _turn_between_processes():
                    await app(scope, receive, send)
            finally:
                gate.release()

        return heavy_in_turn

    return wrap


@asynccontextmanager
async def _turn_between_processes():
    path = os.environ.get(TURN_LOCK_VARIABLE)
    if not path:
        yield  # one server process: its gate is enough
        return
    import fcntl

    with open(path, "a") as handle:
        await asyncio.to_thread(fcntl.flock, handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
