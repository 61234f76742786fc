"""Datasette over the archive: immutable, read-only, with the project's metadata.

Datasette keys metadata by database name, which it takes from the file name; the
metadata's ``archive`` entry is renamed to match whatever file is served.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent
METADATA_FILE = PROJECT_ROOT / "metadata.yml"
PLUGINS_DIR = PROJECT_ROOT / "plugins"
METADATA_DATABASE_KEY = "archive"
SETTINGS = {
    "sql_time_limit_ms": 1000,  # a runaway query ends in about a second
    "max_returned_rows": 1000,
    "facet_time_limit_ms": 200,
    # The tables have curated facets; suggestions would cost extra queries on every page.
    "suggest_facets": False,
}


def database_name(db_path: str | os.PathLike) -> str:
    return Path(db_path).stem


def archive_metadata(db_path: str | os.PathLike) -> dict:
    """metadata.yml with its database entry renamed to the served file's name."""
    metadata = yaml.safe_load(METADATA_FILE.read_text(encoding="utf-8"))
    databases = metadata.get("databases", {})
    if METADATA_DATABASE_KEY in databases:
        databases[database_name(db_path)] = databases.pop(METADATA_DATABASE_KEY)
    return metadata


def plugins_dir() -> str | None:
    return str(PLUGINS_DIR) if PLUGINS_DIR.is_dir() else None


def build_datasette(db_path: str | os.PathLike, *, settings: dict | None = None):
    """The Datasette app serving ``db_path`` immutable, as ``archive serve`` does."""
    from datasette.app import Datasette

    return Datasette(
        immutables=[str(db_path)],
        metadata=archive_metadata(db_path),
        plugins_dir=plugins_dir(),
        settings={**SETTINGS, **(settings or {})},
    )


def datasette_serve_args(db_path: str, metadata_file: str, host: str, port: int) -> list[str]:
    args = ["serve", "--immutable", str(db_path), "--metadata", metadata_file]
    args += ["--host", host, "--port", str(port)]
    if plugins_dir():
        args += ["--plugins-dir", plugins_dir()]
    return args + settings_args()


def settings_args() -> list[str]:
    """SETTINGS as ``datasette serve`` options."""
    args = []
    for name, value in SETTINGS.items():
        args += ["--setting", name, str(value).lower()]
    return args


def serve_archive(db_path: str, *, host: str, port: int, workers: int = 1) -> None:
    """Run Datasette's own ``serve`` in this process (or N workers) until interrupted."""
    if workers > 1:
        from .serve_workers import serve_with_workers

        return serve_with_workers(db_path, host=host, port=port, workers=workers)
    from datasette.cli import cli as datasette_cli

    with tempfile.TemporaryDirectory(prefix="archive-serve-") as folder:
        metadata_file = os.path.join(folder, "metadata.json")
        with open(metadata_file, "w", encoding="utf-8") as handle:
            json.dump(archive_metadata(db_path), handle)
        datasette_cli.main(
            datasette_serve_args(db_path, metadata_file, host, port),
            prog_name="archive serve",
            standalone_mode=True,
        )
