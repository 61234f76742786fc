"""Datasette over the archive, read-only, with the project's metadata and plugins.

Two ways to serve a file:

- live (the default): read-only connections on a file that ``archive ingest`` may still
  write to (in WAL mode), so new episodes appear on the next request;
- immutable (``--immutable``, and every published bundle): for a file that will not change;
  SQLite skips locking and Datasette counts the tables once.

This module is the one place that finds the web files (metadata.yml, the plugins, their
templates and static files), for ``archive serve``, ``archive publish`` and in-process
Datasette alike: they ship inside the ``plugins`` package, so a checkout and an installed
wheel find them the same way. The plugins themselves load through the package's
``datasette`` entry point. Datasette keys metadata by database name, which it takes from
the file name; the metadata's ``archive`` entry is renamed to match the file served.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

METADATA_DATABASE_KEY = "archive"
PLUGIN_CONFIG_KEY = "transcript-archive"  # plugins read their options under this name
SETTINGS = {
    "sql_time_limit_ms": 1000,  # a runaway query ends in about a second
    "max_returned_rows": 1000,
    "facet_time_limit_ms": 200,
    # The tables have curated facets; suggestions would cost extra queries on every page.
    "suggest_facets": False,
    "allow_download": False,  # private by default: --allow-download offers the .db file
}


@dataclass(frozen=True)
class WebFiles:
    metadata: Path  # plugins/metadata.yml: a link to the top-level metadata.yml
    plugins: Path
    templates: Path
    static: Path


@dataclass(frozen=True)
class ServeOptions:
    immutable: bool = False
    allow_download: bool = False
    show_paths: bool = False


def web_files() -> WebFiles:
    import plugins

    folder = Path(plugins.__file__).parent
    return WebFiles(folder / "metadata.yml", folder, folder / "templates", folder / "static")


def database_name(db_path: str | os.PathLike) -> str:
    return Path(db_path).stem


def archive_metadata(db_path: str | os.PathLike, options: ServeOptions = ServeOptions()) -> dict:
    """metadata.yml with its database entry renamed to the served file's name, and the
    plugins' options (what may be shown) under ``plugins``."""
    metadata = yaml.safe_load(web_files().metadata.read_text(encoding="utf-8"))
    databases = metadata.get("databases", {})
    if METADATA_DATABASE_KEY in databases:
        databases[database_name(db_path)] = databases.pop(METADATA_DATABASE_KEY)
    metadata.setdefault("plugins", {})[PLUGIN_CONFIG_KEY] = {"show_paths": options.show_paths}
    return metadata


def serve_settings(options: ServeOptions = ServeOptions()) -> dict:
    return {**SETTINGS, "allow_download": options.allow_download}


def build_datasette(
    db_path: str | os.PathLike,
    options: ServeOptions = ServeOptions(),
    *,
    settings: dict | None = None,
):
    """The Datasette app serving ``db_path`` as ``archive serve`` does with ``options``
    (``settings`` add to or override the archive's own)."""
    from datasette.app import Datasette

    files = {"immutables": [str(db_path)]} if options.immutable else {"files": [str(db_path)]}
    return Datasette(
        **files,
        metadata=archive_metadata(db_path, options),
        settings={**serve_settings(options), **(settings or {})},
    )


def datasette_serve_args(
    db_path: str, metadata_file: str, host: str, port: int, options: ServeOptions = ServeOptions()
) -> list[str]:
    args = ["serve", "--immutable", str(db_path)] if options.immutable else ["serve", str(db_path)]
    args += ["--metadata", metadata_file, "--host", host, "--port", str(port)]
    return args + settings_args(serve_settings(options))


def settings_args(settings: dict = SETTINGS) -> list[str]:
    """Settings as ``datasette serve`` options."""
    args = []
    for name, value in settings.items():
        args += ["--setting", name, str(value).lower()]
    return args


def serve_archive(
    db_path: str,
    *,
    host: str,
    port: int,
    options: ServeOptions = ServeOptions(),
    workers: int = 1,
) -> None:
    """Run Datasette's own ``serve`` in this process (or N workers) until interrupted."""
    if workers > 1:
        from .serve_workers import serve_with_workers

        return serve_with_workers(db_path, host=host, port=port, workers=workers, options=options)
    from datasette.cli import cli as datasette_cli

    with tempfile.TemporaryDirectory(prefix="archive-serve-") as folder:
        metadata_file = os.path.join(folder, "metadata.json")
        with open(metadata_file, "w", encoding="utf-8") as handle:
            json.dump(archive_metadata(db_path, options), handle)
        datasette_cli.main(
            datasette_serve_args(db_path, metadata_file, host, port, options),
            prog_name="archive serve",
            standalone_mode=True,
        )
