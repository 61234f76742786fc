"""A self-contained, read-only bundle of the archive, ready to serve or deploy.

    DIR/
      archive.db          the archive: vacuumed, FTS indexes merged, integrity-checked
      metadata.yml        titles, descriptions and canned queries, keyed by the file's name
      settings.json       time and row limits; no database download
      plugins/            time links, highlighted snippets, players, the audio route,
                          the rules they share, and their static/ files
      templates/          the plugins' page templates
      audio/              the audio of episodes that have no public URL
      inspect-data.json   table counts; it also marks the database immutable
      README.md           the command that serves it, and how to deploy it

``datasette serve DIR`` picks all of it up (Datasette's configuration directory mode).
The bundle is built beside DIR and renamed into place, so a failed publish leaves nothing.
"""

from __future__ import annotations

import datetime
import json
import logging
import shutil
import sqlite3
import tempfile
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from pipeline.audio import file_sha256
from plugins.archive_rules import audio_file_path, has_public_url

from .search_index import finish_search_index
from .serve import SETTINGS, archive_metadata, database_name, settings_args, web_files

logger = logging.getLogger(__name__)

FTS_TABLES = ("segments_fts", "chapters_fts")
AUDIO_FOLDER = "audio"
PACKAGES_ROOT = Path(__file__).resolve().parent.parent  # where db/, pipeline/, plugins/ are
# What plugins/archive_search.py and plugins/archive_pages.py import, and what that imports.
SEARCH_CODE = (
    "db/__init__.py",
    "db/browse.py",
    "db/search.py",
    "db/search_index.py",
    "pipeline/__init__.py",
    "pipeline/timefmt.py",
    "plugins/__init__.py",
    "plugins/archive_rules.py",
)
# What a bundle needs installed beside Python: what the plugins and the search code import
# (numpy ranks several frequent words together from their champion lists).
BUNDLE_REQUIREMENTS = ("datasette>=0.65.3,<1.0", "sqlite-utils>=4.0", "numpy")


class PublishError(Exception):
    """The bundle could not be written; the message says why, in one line."""


@dataclass
class Bundle:
    directory: Path
    database: Path
    episodes: int = 0
    audio_files: int = 0
    warnings: list[str] = field(default_factory=list)


def publish_archive(db_path: str | Path, directory: str | Path, *, copy_audio=True) -> Bundle:
    """Write the bundle for the archive at ``db_path`` into the new or empty ``directory``."""
    target = Path(directory)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise PublishError(f"{directory}: already exists and is not empty; name a new directory")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        bundle = build_bundle(Path(db_path), staging, copy_audio)
        staging.chmod(0o755)  # mkdtemp makes it private; a bundle is for sharing
        if target.exists():
            target.rmdir()
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    bundle.directory, bundle.database = target, target / bundle.database.name
    return bundle


def build_bundle(source: Path, folder: Path, copy_audio: bool) -> Bundle:
    # Datasette's configuration directory mode only finds *.db, *.sqlite, *.sqlite3 files.
    bundle = Bundle(folder, folder / f"{database_name(source)}.db")
    try:
        snapshot(source, bundle.database)
        finish_search_index(bundle.database)
        with closing(sqlite3.connect(bundle.database, isolation_level=None)) as conn:
            conn.execute("begin")
            bundle_audio(conn, source, folder, copy_audio, bundle)
            conn.execute("commit")
            compact_and_check(conn, bundle.database)
    except sqlite3.DatabaseError as ex:
        raise PublishError(f"{source}: cannot be published ({ex})") from None
    metadata = archive_metadata(bundle.database)
    (folder / "metadata.yml").write_text(
        yaml.safe_dump(metadata, sort_keys=False, allow_unicode=True)
    )
    (folder / "settings.json").write_text(json.dumps(SETTINGS, indent=2) + "\n")
    copy_web_files(folder)
    write_inspect_file(bundle.database)
    (folder / "README.md").write_text(bundle_readme(bundle, metadata), encoding="utf-8")
    return bundle


def copy_web_files(folder: Path) -> None:
    """The plugins (loaded from ``plugins/`` by Datasette alone), with their static files
    and the search code beside them, and the templates where Datasette's configuration
    directory mode looks."""
    web = web_files()
    (folder / "plugins").mkdir()
    for module in sorted(web.plugins.glob("archive_*.py")):
        shutil.copyfile(module, folder / "plugins" / module.name)
    copy_search_code(folder / "plugins" / "archive_lib")
    skip = shutil.ignore_patterns("__pycache__", ".gitkeep")
    copies = {web.static: folder / "plugins" / "static", web.templates: folder / "templates"}
    for source, copy in copies.items():
        if shipped_files(source):  # else nothing to copy (an empty folder is not in a wheel)
            shutil.copytree(source, copy, ignore=skip)


def copy_search_code(destination: Path) -> None:
    """The modules the search function and pages import, laid out as packages: a bundle
    served by Datasette alone has no archive package installed (the plugins put this
    folder on ``sys.path``)."""
    for name in SEARCH_CODE:
        (destination / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(PACKAGES_ROOT / name, destination / name)


def shipped_files(folder: Path) -> list[Path]:
    """The files in ``folder`` that a wheel carries: not ``.gitkeep``, not caches."""
    if not folder.is_dir():
        return []
    return [
        path
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name != ".gitkeep" and "__pycache__" not in path.parts
    ]


def snapshot(source: Path, destination: Path) -> None:
    """A consistent, vacuumed copy of the archive, with anything in its WAL included.

    The archive is only read (publishing never writes to it), and may be ingested into
    meanwhile: the copy is one read transaction's view of it.
    """
    with closing(sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)) as conn:
        conn.execute("VACUUM INTO ?", [str(destination)])


def bundle_audio(conn, source: Path, folder: Path, copy_audio: bool, bundle: Bundle) -> None:
    """Copy the audio that episodes without a public URL need; rewrite paths to the copies.

    Paths in the bundle are relative (``audio/<sha256>.mp3``), so the bundle can move;
    the publisher's own absolute paths are not published.
    """
    rows = conn.execute("select id, audio_path, audio_url from episodes").fetchall()
    bundle.episodes = len(rows)
    silent = []
    for episode_id, audio_path, audio_url in rows:
        copied = None
        if copy_audio and audio_path and not has_public_url(audio_url):
            path = audio_file_path(source, audio_path)  # as the audio route finds it
            copied = copy_audio_file(conn, episode_id, path, folder, bundle)
        if copied is None and not has_public_url(audio_url):
            silent.append(episode_id)
        conn.execute("update episodes set audio_path = ? where id = ?", [copied, episode_id])
    if silent:
        bundle.warnings.append(
            f"{len(silent)} of {len(rows)} episodes have no audio in the bundle and no "
            f"audio_url, so their times are not links: {', '.join(silent[:5])}"
            + (", …" if len(silent) > 5 else "")
        )


def copy_audio_file(conn, episode_id: str, path: Path, folder: Path, bundle: Bundle) -> str | None:
    if not path.is_file():
        bundle.warnings.append(f"{episode_id}: audio file {path} not found")
        return None
    sha256 = file_sha256(path)  # names the copy, and keys the route that serves it
    relative = f"{AUDIO_FOLDER}/{sha256}{path.suffix.lower()}"
    if not (folder / relative).exists():
        (folder / AUDIO_FOLDER).mkdir(exist_ok=True)
        shutil.copyfile(path, folder / relative)
        bundle.audio_files += 1
        logger.info("copied %s", path)
    conn.execute("update episodes set audio_sha256 = ? where id = ?", [sha256, episode_id])
    return relative


def compact_and_check(conn, database: Path) -> None:
    """Merge the FTS indexes (faster searches), vacuum, and check the result is sound."""
    for table in FTS_TABLES:
        conn.execute(f"insert into [{table}]([{table}]) values ('optimize')")
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.execute("VACUUM")
    problems = [row[0] for row in conn.execute("PRAGMA integrity_check")]
    if problems != ["ok"]:
        raise PublishError(f"{database}: integrity check failed: {problems[0]}")
    for table in FTS_TABLES:
        try:  # rank 1: compare the index with the content table too, not only itself
            conn.execute(f"insert into [{table}]([{table}], rank) values ('integrity-check', 1)")
        except sqlite3.DatabaseError as ex:
            raise PublishError(f"{database}: {table} does not match its table ({ex})") from None


def write_inspect_file(database: Path) -> None:
    """``datasette inspect``'s file, naming the database by file name as the bundle needs."""
    from datasette.cli import cli as datasette_cli

    inspect_file = database.parent / "inspect-data.json"
    datasette_cli.main(
        ["inspect", str(database), "--inspect-file", str(inspect_file)], standalone_mode=False
    )
    data = json.loads(inspect_file.read_text())
    for entry in data.values():
        entry["file"] = database.name  # Datasette serves files named here as immutable
    inspect_file.write_text(json.dumps(data, indent=2) + "\n")


def bundle_readme(bundle: Bundle, metadata: dict) -> str:
    name = database_name(bundle.database)
    static = " --static audio:audio" if bundle.audio_files else ""
    templates = " --template-dir templates" if (bundle.directory / "templates").is_dir() else ""
    options = " ".join(settings_args())
    quoted = [f"'{requirement}'" for requirement in BUNDLE_REQUIREMENTS]
    return README_TEMPLATE.format(
        title=metadata.get("title", "Spoken archive"),
        date=datetime.date.today().isoformat(),
        episodes=f"{bundle.episodes} episode" + ("" if bundle.episodes == 1 else "s"),
        database=bundle.database.name,
        name=name,
        static=static,
        templates=templates,
        options=options,
        requirements=" ".join(quoted),
        installs=" ".join(f"--install {requirement}" for requirement in quoted),
    )


README_TEMPLATE = """\
# {title}

A read-only, searchable transcript archive of {episodes}, published by
transcript-archive on {date}.

## Serve it

With Python 3.10 or later, install Datasette, sqlite-utils and numpy once
(`pip install {requirements}`), then, inside this folder:

    datasette serve .

and open <http://127.0.0.1:8001/> to search. Datasette reads everything from this folder:
the archive, which `inspect-data.json` marks immutable (no write can reach it), the
canned queries and descriptions in `metadata.yml`, the time and row limits in
`settings.json` (which also keep the database file from being downloaded), the page
templates in `templates/`, and the plugins in `plugins/` (time links, highlighted
snippets, audio players, and the audio route, which serves only the files in `audio/`
that the archive names, with range requests so that players can seek), with the search
code they share with the archive in `plugins/archive_lib/`.

## Deploy it

`datasette publish` builds a container with the same parts. For Google Cloud Run (with
`gcloud` set up), inside this folder:

    datasette publish cloudrun {database} --service {name} \\
      --metadata metadata.yml --plugins-dir plugins{templates}{static} \\
      {installs} \\
      --extra-options "{options}"

`datasette publish heroku` takes the same options. `--static audio:audio` puts the audio
folder beside the archive in the container, where the audio route finds it; episodes
with a public `audio_url` link there and need no copy. `--install` keeps the container
on the Datasette these plugins and canned queries are written for, with sqlite-utils
and numpy, which the search code uses.

## What is here

- `{database}`: episodes, chapters, segments and words, with full-text indexes
- `metadata.yml`, `settings.json`, `templates/`, `plugins/`, `inspect-data.json`: as above
- `audio/`: audio files named by their SHA-256 (when any episode needs one)
"""
