"""Read commands never write, and no command changes a SQLite file that is not an archive."""

from __future__ import annotations

import hashlib
import sqlite3
from contextlib import closing

import pytest

from db.schema import open_archive

from .test_cli import EXAMPLE
from .web_archive import KENNEDY, build_archive, timed_episode


def file_state(folder) -> dict:
    """Every file in the folder with its bytes' hash: a write anywhere shows. Not what a
    reader of a WAL database needs by design: the ``-shm`` shared memory, where it notes
    its read marks, and an empty ``-wal`` file (a WAL with anything in it counts)."""
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.iterdir())
        if path.is_file()
        and not path.name.endswith("-shm")
        and not (path.name.endswith("-wal") and path.stat().st_size == 0)
    }


def app_database(path, *, with_episodes_table=False):
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("create table users (id integer primary key, name text)")
        conn.execute("insert into users (name) values ('ada')")
        if with_episodes_table:
            conn.execute("create table episodes (id text primary key, show text)")
    return path


READ_COMMANDS = [
    ("episodes",),
    ("episodes", "--json"),
    ("chapters", "kennedy"),
    ("search", "country"),
    ("export", "kennedy", "--format", "vtt"),
]


@pytest.mark.parametrize("with_episodes_table", [False, True])
@pytest.mark.parametrize("command", READ_COMMANDS + [("publish", "SITE")])
def test_read_commands_refuse_another_applications_file(
    run_cli, tmp_path, command, with_episodes_table
):
    other = app_database(tmp_path / "app.db", with_episodes_table=with_episodes_table)
    before = file_state(tmp_path)
    args = [str(tmp_path / "site") if arg == "SITE" else arg for arg in command]
    result = run_cli(*args, "--db", other)
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "not an archive" in result.stderr
    assert file_state(tmp_path) == before


@pytest.mark.parametrize("with_episodes_table", [False, True])
def test_ingest_refuses_another_applications_file(
    run_cli, fake_transcriber, tmp_path, with_episodes_table
):
    other = app_database(tmp_path / "app.db", with_episodes_table=with_episodes_table)
    before = file_state(tmp_path)
    result = run_cli("ingest", EXAMPLE, "--db", other, "-q")
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert "not an archive (a SQLite file with other tables: " in result.stderr
    assert file_state(tmp_path) == before
    with sqlite3.connect(other) as conn:
        names = [row[0] for row in conn.execute("select name from sqlite_master")]
    assert "_sqlite_migrations" not in names and "segments" not in names


def test_ingest_creates_an_archive_in_an_empty_file(run_cli, fake_transcriber, tmp_path):
    empty = tmp_path / "new.db"
    empty.touch()
    result = run_cli("ingest", EXAMPLE, "--db", empty, "-q")
    assert result.exit_code == 0, result.output
    assert run_cli("episodes", "--db", empty, "--json").exit_code == 0


def test_read_commands_write_nothing_to_an_archive(run_cli, tmp_path):
    path = tmp_path / "talks.db"
    build_archive(path, timed_episode("kennedy", KENNEDY))
    with closing(sqlite3.connect(path)) as conn:  # the WAL's pages go into the file
        conn.execute("pragma wal_checkpoint(truncate)")
    before = file_state(tmp_path)
    for command in READ_COMMANDS:
        result = run_cli(*command, "--db", path)
        assert result.exit_code == 0, result.output
    assert run_cli("publish", tmp_path / "out" / "site", "--db", path).exit_code == 0
    after = file_state(tmp_path)
    assert after == before


def test_an_archive_from_an_older_version_is_read_by_nothing_and_not_upgraded(
    run_cli, tmp_path
):
    path = tmp_path / "talks.db"
    build_archive(path, timed_episode("kennedy", KENNEDY))
    with closing(sqlite3.connect(path)) as conn, conn:  # as made before m003 existed
        conn.execute("alter table chapters drop column hidden")
        conn.execute("delete from _sqlite_migrations where name = 'm003_hidden_chapters'")
    before = file_state(tmp_path)
    result = run_cli("search", "country", "--db", path)
    assert result.exit_code == 1 and result.stderr.count("\n") == 1
    assert "made by an older version (schema lacks m003_hidden_chapters)" in result.stderr
    assert file_state(tmp_path) == before
    open_archive(path).close()  # a writing command upgrades it
    assert run_cli("search", "country", "--db", path).exit_code == 0
