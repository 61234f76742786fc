"""The ``archive`` command: the only module that talks to the terminal."""

from __future__ import annotations

import functools
import importlib
import json
import logging
import sys
import types
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import click

from db.read import (
    EpisodeNotFound,
    episode_chapters,
    episode_gaps,
    episode_warnings,
    existing_episode_ids,
    find_episode,
    list_episodes,
    load_episode,
)
from db.schema import ArchiveError, open_archive, open_archive_read_only
from db.storage import StorageError, store_patiently


class _ImportedOnFirstUse(types.ModuleType):
    """Stands in ``sys.modules`` for a module until one of its attributes is used."""

    def __init__(self, name: str):
        super().__init__(name)
        self.__spec__ = None  # what `import name` checks: it must not load the module

    def __getattr__(self, attribute: str):
        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]  # so that the import below loads the real module
        module = importlib.import_module(self.__name__)
        self.__dict__.update(module.__dict__)
        return getattr(module, attribute)


# Fast start: heavy modules (faster-whisper, httpx, feedparser, rapidfuzz, Datasette) are
# imported inside the commands that use them, so that `archive search` costs little more
# than its query. PyAV is imported by the modules that hold the transcription defaults,
# though only ingest decodes audio: it loads when first used.
if "av" not in sys.modules:
    sys.modules["av"] = _ImportedOnFirstUse("av")

from .documents import without_controls as sanitize_for_terminal
from .checkpoint import checkpoint_root, remove_checkpoint
from .export import FORMATS, export_episode, export_file_name
from .textnorm import plural
from .timefmt import format_clock, format_timestamp
from .settings import DEFAULT_BATCH_SIZE, DEFAULT_CHUNK_SECONDS, DEFAULT_MODEL
from .settings import TranscriptionSettings
from .transcribe import Transcriber


def failures() -> tuple:
    """What ingest reports per file and goes on (imported when an error is being matched)."""
    from .audio import AudioError
    from .ingest import StrictOutlineError
    from .outline import OutlineError
    from .transcribe import TranscribeError

    return (AudioError, OutlineError, StrictOutlineError, TranscribeError, ArchiveError)


def db_option(command):
    return click.option(
        "--db",
        "db_path",
        type=click.Path(dir_okay=False),
        envvar="ARCHIVE_DB",
        default="archive.db",
        show_default=True,
        help="Archive database file (or set $ARCHIVE_DB).",
    )(command)


def json_option(command):
    return click.option("--json", "as_json", is_flag=True, help="Print JSON.")(command)


def echo_error(message: str) -> None:
    click.echo(click.style("Error: ", fg="red") + message, err=True)


def echo_warning(message: str) -> None:
    click.echo(click.style("Warning: ", fg="yellow") + message, err=True)


def open_existing(db_path: str):
    """The archive for a command that only reads it: nothing is written, not even a migration."""
    try:
        return open_archive_read_only(db_path)
    except ArchiveError as ex:
        raise click.ClickException(str(ex)) from None


def transcription_options(command):
    """The options that choose and run the model; the command gets them as ``settings``."""
    options = [
        click.option(
            "--model",
            default=DEFAULT_MODEL,
            show_default=True,
            help="faster-whisper model name or local model folder.",
        ),
        click.option(
            "--device",
            type=click.Choice(["auto", "cpu", "cuda"]),
            default="auto",
            show_default=True,
            help="auto picks CUDA when present, else CPU.",
        ),
        click.option(
            "--compute-type",
            default="auto",
            show_default=True,
            help="CTranslate2 compute type: auto (int8 on CPU, float16 on CUDA), int8, float16...",
        ),
        click.option(
            "--language", help="Spoken language code (default: detect; 'en' for .en models)."
        ),
        click.option(
            "--batch-size",
            type=click.IntRange(min=0),
            default=DEFAULT_BATCH_SIZE,
            show_default=True,
            help="Windows decoded at once by the batched pipeline; 0 decodes sequentially.",
        ),
        click.option(
            "--chunk-seconds",
            type=click.FloatRange(min=10),
            default=DEFAULT_CHUNK_SECONDS,
            show_default=True,
            help="Audio transcribed (and checkpointed) at a time, cut at a pause.",
        ),
    ]

    @functools.wraps(command)
    def with_settings(*args, model, device, compute_type, language, batch_size, chunk_seconds,
                      **kwargs):
        settings = TranscriptionSettings(
            model=model,
            device=device,
            compute_type=compute_type,
            language=language,
            batch_size=batch_size,
            chunk_seconds=chunk_seconds,
        )
        return command(*args, settings=settings, **kwargs)

    for option in reversed(options):
        with_settings = option(with_settings)
    return with_settings


def strict_option(command):
    return click.option(
        "--strict",
        is_flag=True,
        help="Refuse an episode whose outline needs fixing (out of order, duplicates, ...).",
    )(command)


def ray_option(command):
    return click.option(
        "--ray",
        "ray_address",
        is_flag=False,
        flag_value="local",
        default=None,
        metavar="[ADDRESS]",
        help="Transcribe on Ray workers: 'local' (the default) starts Ray on this machine; "
        "'auto' or HOST:PORT joins a running cluster. Put it after the audio files.",
    )(command)


def transcriber_factory(settings: TranscriptionSettings):
    """Loads the model on first use, once for the whole batch (never when all files fail,
    nor when every chunk comes from a checkpoint)."""
    return functools.cache(
        lambda: Transcriber(
            model=settings.model,
            device=settings.device,
            compute_type=settings.compute_type,
            cpu_threads=settings.cpu_threads,
        )
    )


@dataclass(frozen=True)
class BatchRun:
    """What ``ingest`` and ``feed`` share: how to transcribe, and where and how to store."""

    settings: TranscriptionSettings
    strict: bool
    restart: bool
    quiet: bool
    as_json: bool
    db_path: str


def batch_options(command):
    """The options ``ingest`` and ``feed`` share; the command gets them as ``run``."""

    @functools.wraps(command)
    def with_run(*args, settings, strict, restart, quiet, verbose, as_json, db_path, **kwargs):
        show_log(verbose)
        run = BatchRun(settings, strict, restart, quiet, as_json, db_path)
        return command(*args, run=run, **kwargs)

    for option in reversed(
        [
            strict_option,
            transcription_options,
            click.option(
                "--restart",
                is_flag=True,
                help="Discard the finished chunks of an interrupted run and start over.",
            ),
            click.option("-q", "--quiet", is_flag=True, help="No progress bars."),
            click.option(
                "-v", "--verbose", count=True, help="Log what the pipeline does (-vv: more)."
            ),
            json_option,
            db_option,
        ]
    ):
        with_run = option(with_run)
    return with_run


class _StderrHandler(logging.Handler):
    """Log records on whatever ``sys.stderr`` is now (click's runner swaps it in tests)."""

    def emit(self, record: logging.LogRecord) -> None:
        click.echo(f"{record.name}: {record.getMessage()}", err=True)


_LOG_HANDLER = _StderrHandler()


def show_log(verbose: int) -> None:
    """The pipeline's log on stderr: -v shows what it decides, -vv how."""
    for name in ("pipeline", "db"):
        logger = logging.getLogger(name)
        logger.removeHandler(_LOG_HANDLER)
        if verbose:
            logger.addHandler(_LOG_HANDLER)
            logger.setLevel(logging.INFO if verbose == 1 else logging.DEBUG)


def run_batch(run: BatchRun, db, items: list, noun: str) -> None:
    """Prepare and store each item; an item that fails is reported and the rest go on.

    ``items``: (label for its messages, or None when its errors name the file; a function
    that makes its ``EpisodeRequest``, which may fail, as a download does).
    """
    load_transcriber = transcriber_factory(run.settings)
    checkpoints = checkpoint_root(run.db_path)
    stored, failed = [], 0
    for label, make_request in items:
        prefix = f"{label}: " if label else ""
        try:
            episode = _prepare_with_progress(make_request(), run, load_transcriber, checkpoints)
            store_patiently(db, episode, on_wait=lambda message: click.echo(message, err=True))
        except StorageError as ex:
            echo_error(prefix + str(ex) + _kept_checkpoint(episode, checkpoints))
            failed += 1
            continue
        except feed_failures() as ex:
            echo_error(prefix + str(ex))
            failed += 1
            continue
        remove_checkpoint(checkpoints, episode.audio.sha256)
        stored.append(_episode_summary(episode))
        _report_stored(episode)
    _print_stored(stored, run.as_json)
    if failed:
        raise click.ClickException(f"{failed} of {len(items)} {noun} could not be ingested")


def _kept_checkpoint(episode, checkpoints: Path) -> str:
    if episode.transcript.model.startswith("publisher:"):
        return ""
    return (
        f"; its transcript is kept in {checkpoints / episode.audio.sha256[:16]}: "
        "run the same command again to store it without transcribing"
    )


@click.group()
@click.version_option(package_name="transcript-archive")
def cli():
    """Search what was said in spoken audio, chapter by chapter.

    \b
    archive ingest episode.mp3 --notes notes.txt
    archive search "unilateral pause"
    archive serve
    archive publish site/
    """


@cli.command()
@click.argument("audio", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option(
    "--notes",
    type=click.Path(exists=True, dir_okay=False),
    help="Show notes with the chapter outline, e.g. lines like '(05:32) How it started'.",
)
@click.option(
    "--chapters",
    "chapters_file",
    type=click.Path(exists=True, dir_okay=False),
    help="Podcasting 2.0 chapters JSON (preferred over --notes and embedded chapters).",
)
@click.option("--title", help="Episode title (default: the file's title tag, else its name).")
@click.option("--id", "episode_id", help="Episode id (default: 'sha256:' + 16 hex of the audio).")
@ray_option
@batch_options
def ingest(audio, notes, chapters_file, title, episode_id, ray_address, run):
    """Transcribe, align and store one or more episodes.

    \b
    archive ingest episode.mp3 --notes notes.txt --title "RSP v3: my takes"
    archive ingest talks/*.m4a
    archive ingest backlog/*.mp3 --ray

    Each episode is stored in one transaction: a failed or interrupted ingest leaves
    the archive as it was. Ingesting the same audio again replaces that episode.
    Finished chunks of the transcript are kept beside the archive (ARCHIVE.db-checkpoints/)
    until the episode is stored: running the same command again after a kill or a
    storage error goes on from there (--restart: start over).
    """
    from .ingest import EpisodeRequest

    if len(audio) > 1 and (notes or chapters_file or title or episode_id):
        raise click.UsageError(
            "--notes, --chapters, --title and --id describe one episode: give one AUDIO"
        )
    try:
        outline = read_outline(notes, chapters_file)
        ray_settings = backlog_settings(ray_address, run.settings)
        db = open_archive(run.db_path)
    except failures() as ex:
        raise click.ClickException(str(ex)) from None
    make_requests = [
        functools.partial(EpisodeRequest, path, outline, title, episode_id, run.strict)
        for path in audio
    ]
    if ray_settings is not None:
        ingest_on_ray(db, [make() for make in make_requests], ray_settings, run)
        return
    run_batch(run, db, [(None, make) for make in make_requests], "files")


def read_outline(notes, chapters_file):
    """The outline the user named: chapters JSON first, then notes; None: look in the audio."""
    from .chapters_json import read_chapters_json
    from .outline import read_notes

    if chapters_file:
        if notes:
            echo_warning(f"chapters from {chapters_file}; the timestamps in {notes} are not used")
        return read_chapters_json(chapters_file)
    return read_notes(notes) if notes else None


def _prepare_with_progress(request, run: BatchRun, load_transcriber, checkpoints):
    from .align import describe_alignment
    from .ingest import prepare_episode

    label = f"transcribing {Path(request.audio_path).name}"
    with _ProgressBar(label, run.quiet) as bar:
        episode = prepare_episode(
            request,
            run.settings,
            load_transcriber,
            warn=echo_warning,
            checkpoint_dir=checkpoints,
            restart=run.restart,
            on_start=bar.start,
            on_progress=bar.seconds,
        )
    alignment = describe_alignment(episode)
    if alignment:
        click.echo(alignment, err=True)
    if request.transcript is None:  # else a publisher's: nothing was transcribed here
        click.echo(_transcribed_line(episode.transcript), err=True)
    return episode


def _transcribed_line(transcript) -> str:
    speed = transcript.duration / transcript.elapsed if transcript.elapsed else 0.0
    resumed = (
        f"; {format_clock(transcript.resumed)} of it from the checkpoint"
        if transcript.resumed
        else ""
    )
    return (
        f"transcribed {format_clock(transcript.duration)} of audio in "
        f"{format_clock(transcript.elapsed)} ({speed:.1f}x real time{resumed})"
    )


class _ProgressBar:
    """Seconds of audio done, on stderr; silent with --quiet."""

    def __init__(self, label: str, quiet: bool):
        self.label, self.quiet, self.bar, self.done = label, quiet, None, 0

    def __enter__(self):
        return self

    def start(self, duration: float) -> None:
        if not self.quiet:
            self.bar = click.progressbar(
                length=max(1, round(duration)),
                label=self.label,
                file=sys.stderr,
                show_percent=True,
                show_eta=True,
            )
            self.bar.__enter__()

    def seconds(self, seconds: float) -> None:
        if self.bar is not None and round(seconds) > self.done:
            self.bar.update(round(seconds) - self.done)
            self.done = round(seconds)

    def __exit__(self, *exc_info):
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


def _episode_summary(episode) -> dict:
    return {
        "id": episode.id,
        "title": episode.title,
        "duration": episode.audio.duration,
        "chapters": len(episode.chapters),
        "segments": sum(len(chapter.segments) for chapter in episode.chapters),
    }


def _report_stored(episode) -> None:
    kind = episode.transcript.model.removeprefix("publisher:")
    transcript = f", the publisher's {kind} transcript" if kind != episode.transcript.model else ""
    click.echo(
        f"stored {episode.id} '{episode.title}': {plural(len(episode.chapters), 'chapter')}, "
        f"{plural(sum(len(c.segments) for c in episode.chapters), 'segment')}{transcript}"
        f"{_gaps_note(episode.transcript.gaps)}",
        err=True,
    )


def _gaps_note(gaps) -> str:
    if not gaps:
        return ""
    seconds = sum(gap.end - gap.start for gap in gaps)
    stretches = "1 stretch" if len(gaps) == 1 else f"{len(gaps)} stretches"
    return f"; {stretches} of speech ({format_clock(seconds)}) could not be transcribed"


def _print_stored(stored: list[dict], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(stored, indent=2))
    else:
        for summary in stored:
            click.echo(summary["id"])


@cli.command()
@json_option
@db_option
def episodes(as_json, db_path):
    """List the episodes in the archive.

    \b
    archive episodes
    archive episodes --json
    """
    rows = list_episodes(open_existing(db_path))
    if as_json:
        keys = ("id", "title", "duration", "chapters", "segments")
        click.echo(json.dumps([{key: row[key] for key in keys} for row in rows], indent=2))
        return
    print_table(
        ["id", "duration", "chapters", "segments", "title"],
        [
            [
                row["id"],
                format_clock(row["duration"]),
                row["chapters"],
                row["segments"],
                row["title"],
            ]
            for row in rows
        ],
    )


@cli.command()
@click.argument("episode")
@json_option
@db_option
def chapters(episode, as_json, db_path):
    """Show an episode's chapters as aligned to its audio.

    \b
    archive chapters sha256:38943d2e2b459189
    archive chapters sha256:3894 --json

    EPISODE is an episode id or a prefix that only it has.
    """
    db = open_existing(db_path)
    try:
        row = find_episode(db, episode)
    except EpisodeNotFound as ex:
        raise click.ClickException(str(ex)) from None
    rows = episode_chapters(db, row["id"])
    gaps = episode_gaps(db, row["id"])
    if as_json:
        for chapter in rows:  # each gap listed under the chapter it starts in
            chapter["gaps"] = [g for g in gaps if chapter["start"] <= g["start"] < chapter["end"]]
        click.echo(json.dumps(rows, indent=2))
        return
    click.echo(
        f"{row['title']} ({format_clock(row['duration'])}, outline from {row['outline_source']}, "
        f"offset {row['outline_offset'] or 0:+.1f} s)",
        err=True,
    )
    print_table(
        ["#", "stated", "start", "end", "confidence", "title"],
        [
            [
                chapter["position"],
                format_clock(chapter["stated_start"]),
                format_clock(chapter["start"]),
                format_clock(chapter["end"]),
                "-" if chapter["confidence"] is None else f"{chapter['confidence']:.2f}",
                _chapter_title_cell(chapter),
            ]
            for chapter in rows
        ],
    )
    _print_gaps(gaps)
    _echo_stored_warnings(episode_warnings(db, row["id"]))


def _chapter_title_cell(chapter: dict) -> str:
    """Hidden chapters (Podcasting 2.0 ``toc: false``) are marked: players do not list them."""
    title = chapter["title"]
    return f"{title} [hidden]".strip() if chapter.get("hidden") else title


WARNINGS_SHOWN = 5


def _echo_stored_warnings(warnings: list[str]) -> None:
    """A summary on stderr of what was fixed or left out when the episode was read."""
    if not warnings:
        return
    click.echo(f"{plural(len(warnings), 'warning')} when it was ingested:", err=True)
    for message in warnings[:WARNINGS_SHOWN]:
        click.echo(f"  {sanitize_for_terminal(message)}", err=True)
    if len(warnings) > WARNINGS_SHOWN:
        click.echo(
            f"  ... {len(warnings) - WARNINGS_SHOWN} more (all of them: the warnings table)",
            err=True,
        )


def _print_gaps(gaps: list[dict]) -> None:
    if not gaps:
        return
    seconds = sum(gap["end"] - gap["start"] for gap in gaps)
    stretches = "1 stretch" if len(gaps) == 1 else f"{len(gaps)} stretches"
    click.echo(f"\n{stretches} of speech ({format_clock(seconds)}) could not be transcribed:")
    print_table(
        ["start", "end", "reason"],
        [[format_clock(g["start"]), format_clock(g["end"]), g["reason"]] for g in gaps],
    )


@cli.command()
@click.argument("query")
@click.option("--episode", help="Only search this episode (id).")
@click.option("--show", help="Only search episodes of this show (exact name).")
@click.option(
    "--from",
    "published_from",
    type=click.DateTime(["%Y-%m-%d"]),
    metavar="YYYY-MM-DD",
    help="Published on or after.",
)
@click.option(
    "--to",
    "published_to",
    type=click.DateTime(["%Y-%m-%d"]),
    metavar="YYYY-MM-DD",
    help="Published on or before.",
)
@click.option("--newest", is_flag=True, help="Newest episodes first, not best matches first.")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--offset", type=click.IntRange(min=0), default=0, help="Skip this many hits.")
@json_option
@db_option
def search(
    query, episode, show, published_from, published_to, newest, limit, offset, as_json, db_path
):
    """Find where something was said, best matches first.

    \b
    archive search "unilateral pause"
    archive search '"ask not" OR countr*' --limit 5 --json
    archive search budget --show "Morning Brief" --from 2024-01-01 --newest

    QUERY uses SQLite FTS5 syntax: "exact phrase", prefix*, AND, OR, NOT.
    """
    from db.search import SearchFilters, SearchQueryError
    from db.search import search as search_archive
    from db.search_index import index_in_step

    db = open_existing(db_path)
    day = lambda value: value.date().isoformat() if value else None  # noqa: E731
    filters = SearchFilters(episode, show, day(published_from), day(published_to))
    order = "newest" if newest else "relevance"
    try:
        page = search_archive(db, query, filters=filters, order=order, limit=limit, offset=offset)
    except SearchQueryError as ex:
        raise click.ClickException(str(ex)) from None
    if not index_in_step(db.conn):
        echo_warning("rows were changed outside archive; run `archive reindex` for full speed")
    hits = page.hits
    if as_json:
        click.echo(json.dumps(hits, indent=2))
        return
    if not hits:
        click.echo(f"no matches for {query!r}", err=True)
    for hit in hits:
        snippet = hit["snippet"].replace("<mark>", "\x1b[1;33m").replace("</mark>", "\x1b[0m")
        click.echo(
            f"[{format_timestamp(hit['start'])}] {hit['episode_title']} › "
            f"{hit['chapter_title']}  ({hit['episode_id']})"
        )
        click.echo(f"    {snippet}")


@cli.command()
@db_option
def reindex(db_path):
    """Rebuild the full-text indexes and search structures from the base tables.

    \b
    archive reindex
    archive reindex --db talks.db

    Ingest keeps them in step by itself. Run this after adding or changing episodes,
    chapters or segments in other ways (sqlite-utils, plain SQL): until then search still
    finds those rows, but ranks frequent words without the champion lists, more slowly.
    """
    import time

    from db.search_index import rebuild_search_index, search_index_summary

    try:
        db = open_archive(db_path, create=False)  # also brings an older archive up to date
    except ArchiveError as ex:
        raise click.ClickException(str(ex)) from None
    started = time.perf_counter()
    with db.atomic():
        for table in ("segments", "chapters"):
            db[table].rebuild_fts()
        rebuild_search_index(db)
    summary = search_index_summary(db)
    click.echo(
        f"reindexed {db_path} in {time.perf_counter() - started:.1f} s: "
        f"{plural(summary['terms'], 'term')}, champion lists for "
        f"{plural(summary['frequent_terms'], 'frequent term')}",
        err=True,
    )


@cli.command()
@click.option("--clear", is_flag=True, help="Remove them: that audio's next ingest starts over.")
@json_option
@db_option
def checkpoints(clear, as_json, db_path):
    """List the unfinished transcripts kept for the archive, or remove them.

    \b
    archive checkpoints
    archive checkpoints --clear

    Ingest keeps each finished chunk of a transcript until its episode is stored; a run
    that was killed, or could not store, leaves them. The same ingest run again resumes
    from them; --restart drops one file's, --clear all of them.
    """
    import datetime

    from .checkpoint import kept_checkpoints

    root = checkpoint_root(db_path)
    kept = kept_checkpoints(root)
    if clear:
        for checkpoint in kept:
            remove_checkpoint(root, checkpoint.sha256)
        click.echo(f"removed {plural(len(kept), 'checkpoint')} from {root}", err=True)
        return
    rows = [
        {
            "sha256": checkpoint.sha256,
            "folder": str(checkpoint.folder),
            "chunks": checkpoint.chunks,
            "transcribed_seconds": round(checkpoint.transcribed_seconds, 1),
            "modified": datetime.datetime.fromtimestamp(checkpoint.modified).isoformat(
                timespec="seconds"
            ),
            "bytes": checkpoint.size,
        }
        for checkpoint in kept
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
    elif not rows:
        click.echo(f"no unfinished transcripts in {root}", err=True)
    else:
        print_table(
            ["audio", "chunks", "transcribed", "modified", "folder"],
            [
                [
                    "sha256:" + row["sha256"][:16],
                    row["chunks"],
                    format_clock(row["transcribed_seconds"]),
                    row["modified"].replace("T", " "),
                    row["folder"],
                ]
                for row in rows
            ],
        )


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8001, show_default=True)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    help="Server processes, each with its own SQL threads (default: one per core).",
)
@click.option(
    "--immutable",
    is_flag=True,
    help="Serve a file that will not change while served (no ingest meanwhile): "
    "no locking, table counts read once.",
)
@click.option(
    "--allow-download",
    is_flag=True,
    help="Offer the whole database file for download (needs --immutable).",
)
@click.option(
    "--show-paths",
    is_flag=True,
    help="Show local file paths (episodes.audio_path, the database's own path).",
)
@db_option
def serve(host, port, workers, immutable, allow_download, show_paths, db_path):
    """Share the archive read-only through Datasette, live: episodes ingested while it
    runs are found on the next request.

    \b
    archive serve
    archive serve --db talks.db --port 8080 --workers 4
    archive serve --db published.db --immutable --allow-download

    Private by default: no download of the database and no local paths on any page.
    """
    from db.serve import ServeOptions, database_name, serve_archive
    from db.serve_workers import default_workers

    if allow_download and not immutable:
        raise click.UsageError("--allow-download needs --immutable: a live archive may change")
    open_existing(db_path).close()
    options = ServeOptions(immutable, allow_download, show_paths)
    mode = "immutable" if immutable else "live"
    click.echo(
        f"serving {db_path} read-only ({mode}); search it at http://{host}:{port}/ "
        f"(SQL: /{database_name(db_path)})",
        err=True,
    )
    serve_archive(
        db_path, host=host, port=port, options=options, workers=workers or default_workers()
    )


@cli.command()
@click.argument("directory", type=click.Path(file_okay=False))
@click.option(
    "--no-audio",
    is_flag=True,
    help="Copy no audio files: only episodes with an audio_url keep their time links.",
)
@db_option
def publish(directory, no_audio, db_path):
    """Write a self-contained, read-only bundle of the archive to DIRECTORY.

    \b
    archive publish site/
    datasette serve site/

    The bundle holds a checked, vacuumed copy of the archive, its metadata, settings and
    plugins, the audio of episodes that have no public URL, an inspect file and a README
    that says how to serve and deploy it. DIRECTORY must be new or empty.
    """
    from db.publish import PublishError, publish_archive

    open_existing(db_path).close()
    try:
        bundle = publish_archive(db_path, directory, copy_audio=not no_audio)
    except (PublishError, OSError) as ex:
        raise click.ClickException(str(ex)) from None
    for warning in bundle.warnings:
        echo_warning(warning)
    click.echo(
        f"published {plural(bundle.episodes, 'episode')} and "
        f"{plural(bundle.audio_files, 'audio file')}; serve it with: "
        f"datasette serve {bundle.directory}",
        err=True,
    )
    click.echo(str(bundle.directory))


def print_table(headers: list[str], rows: list[list]) -> None:
    # Titles come from feeds and files: no escape sequence of theirs reaches the terminal.
    cells = [[sanitize_for_terminal(str(value)) for value in row] for row in rows]
    widths = [max([len(h)] + [len(row[i]) for row in cells]) for i, h in enumerate(headers)]
    for row in [headers] + cells:
        line = "  ".join(value.ljust(width) for value, width in zip(row, widths))
        click.echo(line.rstrip())


# --- feeds and exports ----------------------------------------------------------------

def feed_failures() -> tuple:
    from .download import DownloadError

    return failures() + (DownloadError,)


@cli.command()
@click.argument("feed_location", metavar="FEED")
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    help="Only the newest N items of the feed (by published date).",
)
@click.option(
    "--transcribe",
    is_flag=True,
    help="Transcribe the audio even when the publisher links a transcript.",
)
@click.option(
    "--reingest",
    is_flag=True,
    help="Ingest items that are already in the archive again, replacing them.",
)
@click.option(
    "--cache",
    "cache_dir",
    type=click.Path(file_okay=False),
    help="Audio cache folder (default: $ARCHIVE_CACHE, else ~/.cache/transcript-archive/audio).",
)
@ray_option
@batch_options
def feed(feed_location, limit, transcribe, reingest, cache_dir, ray_address, run):
    """Ingest a podcast feed (RSS or Atom, a URL or a file): each item not yet archived.

    \b
    archive feed https://example.com/podcast.rss
    archive feed podcast.xml --limit 5 --cache /data/audio
    archive feed https://example.com/podcast.rss --ray auto

    Each item's guid is its episode id. Chapters come from its podcast:chapters file, else
    from timestamps in its show notes, else from the audio's own chapters. A transcript
    the publisher links (podcast:transcript: SRT, WebVTT or JSON) is imported instead of
    transcribing, unless --transcribe. Audio is kept in the cache; an interrupted download
    resumes on the next run. An item that fails is reported, the others are stored, and
    the exit status is 1.
    """
    from .download import http_client
    from .feed import FeedError
    from .feed_episode import read_feed

    ray_settings = backlog_settings(ray_address, run.settings)
    with http_client() as client:
        try:
            parsed = read_feed(feed_location, client)
            db = open_archive(run.db_path)
        except (FeedError, ArchiveError) as ex:
            raise click.ClickException(str(ex)) from None
        for warning in parsed.warnings:
            echo_warning(warning)
        items = _items_to_ingest(db, parsed, limit, reingest)
        if ray_settings is not None:
            options = {"strict": run.strict}
            feed_on_ray(db, items, cache_dir, not transcribe, options, ray_settings, run)
            return
        batch = [
            (
                item.guid,
                functools.partial(
                    _feed_request, item, client, cache_dir, transcribe, run.quiet, strict=run.strict
                ),
            )
            for item in items
        ]
        run_batch(run, db, batch, "items")


def _items_to_ingest(db, parsed, limit, reingest):
    from .feed import newest_items

    items = newest_items(parsed.items, limit)
    known = set() if reingest else existing_episode_ids(db, [item.guid for item in items])
    new = [item for item in items if item.guid not in known]
    click.echo(
        f"{parsed.title or 'feed'}: {plural(len(parsed.items), 'item')}"
        + (f", the newest {len(items)} taken" if limit and len(items) < len(parsed.items) else "")
        + f", {len(known)} already archived, {len(new)} to ingest",
        err=True,
    )
    return new


def _feed_request(item, client, cache_dir, transcribe, quiet, **options):
    from .download import default_cache_dir
    from .feed_episode import feed_item_request

    click.echo(f"{item.guid}: '{item.title}'", err=True)
    file_name = Path(urlsplit(item.enclosure_url).path).name or "audio"
    bar = _DownloadBar(f"downloading {file_name}", quiet)
    try:
        return feed_item_request(
            item,
            client,
            Path(cache_dir) if cache_dir else default_cache_dir(),
            use_publisher_transcript=not transcribe,
            warn=echo_warning,
            on_download=bar.update,
            **options,
        )
    finally:
        bar.close()


class _DownloadBar:
    """A progress bar on stderr for one download, shown once the size is known."""

    def __init__(self, label: str, quiet: bool):
        self.label, self.quiet, self.bar = label, quiet, None

    def update(self, done: int, total: int | None) -> None:
        if self.quiet or not total:
            return
        if self.bar is None:
            self.bar = click.progressbar(length=total, label=self.label, file=sys.stderr)
            self.bar.__enter__()
        self.bar.update(done - self.bar.pos)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


@cli.command()
@click.argument("target", metavar="EPISODE|DIR")
@click.option(
    "--format",
    "file_format",
    type=click.Choice(FORMATS),
    required=True,
    help="vtt, srt, json (Podcasting 2.0 transcript), chapters (Podcasting 2.0 chapters), "
    "md or txt (readable, with chapter headings).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    help="Write to this file (default: stdout).",
)
@click.option(
    "--all",
    "every_episode",
    is_flag=True,
    help="Export every episode into the folder DIR, one file each, named after its id.",
)
@db_option
def export(target, file_format, output, every_episode, db_path):
    """Write an episode's transcript or chapters in a standard format.

    \b
    archive export sha256:3ffc --format vtt -o episode.vtt
    archive export sha256:3ffc --format md
    archive export --all --format srt subtitles/

    EPISODE is an episode id or a prefix that only it has; with --all the argument is
    the folder to write into.
    """
    db = open_existing(db_path)
    if every_episode:
        if output:
            raise click.UsageError("--all writes one file per episode into DIR; drop -o")
        _export_all(db, file_format, Path(target))
        return
    try:
        row = find_episode(db, target)
    except EpisodeNotFound as ex:
        raise click.ClickException(str(ex)) from None
    text = export_episode(load_episode(db, row["id"]), file_format)
    if output is None:
        click.echo(text, nl=False)
        return
    _write_text(Path(output), text)
    click.echo(f"wrote {output}", err=True)


def _export_all(db, file_format: str, folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as ex:
        raise click.ClickException(f"{folder}: cannot make the folder ({ex.strerror})") from None
    rows = list_episodes(db)
    for row in rows:
        path = folder / export_file_name(row["id"], file_format)
        _write_text(path, export_episode(load_episode(db, row["id"]), file_format))
        click.echo(str(path))
    click.echo(f"wrote {plural(len(rows), 'file')} to {folder}", err=True)


def _write_text(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as ex:
        raise click.ClickException(f"{path}: cannot write ({ex.strerror})") from None


# --- many episodes on Ray -------------------------------------------------------------


def backlog_settings(ray_address, transcription: TranscriptionSettings):
    """The Ray settings for ``--ray``, checked before any work starts; None without it."""
    if ray_address is None:
        return None
    from .backlog import BacklogError, BacklogSettings, check_address

    try:
        check_address(ray_address)
    except BacklogError as ex:
        raise click.ClickException(str(ex)) from None
    return BacklogSettings(ray_address, transcription=transcription, transcriber_class=Transcriber)


def ingest_on_ray(db, requests, settings, run: BatchRun):
    """``ingest --ray``: a file already stored from the same audio by the same model is
    skipped, so running the command again after Ctrl-C or a crash finishes the rest."""
    from db.read import stored_transcriptions

    from .audio import AudioError
    from .backlog import FileJob

    jobs, failed = [], 0
    for request in requests:
        try:
            jobs.append(FileJob.for_request(request))
        except AudioError as ex:
            echo_error(str(ex))
            failed += 1
    stored = stored_transcriptions(db, [job.episode_id for job in jobs])
    todo = [job for job in jobs if stored.get(job.episode_id) != (job.sha256, settings.model)]
    if len(todo) < len(jobs):
        click.echo(
            f"{plural(len(jobs) - len(todo), 'file')} already stored from the same audio "
            f"by {settings.model}: skipped",
            err=True,
        )
    run_on_ray(db, todo, settings, run, failed_before=failed)


def feed_on_ray(db, items, cache_dir, use_publisher_transcript, options, settings, run):
    from .backlog import FeedJob

    cache = str(Path(cache_dir).resolve()) if cache_dir else None
    jobs = [FeedJob(item, cache, use_publisher_transcript, options) for item in items]
    run_on_ray(db, jobs, settings, run)


def run_on_ray(db, jobs, settings, run: BatchRun, failed_before=0):
    """Hand the jobs to Ray, store each episode as it comes back, report as ingest does."""
    from .align import describe_alignment
    from .backlog import BacklogCallbacks, BacklogError, BacklogInterrupted, run_backlog

    progress = _BacklogProgress(run.quiet)
    stored = {}

    def on_stored(episode):
        stored[episode.id] = _episode_summary(episode)
        alignment = describe_alignment(episode)
        if alignment:
            progress.above(click.echo, alignment, err=True)
        progress.above(_report_stored, episode)

    callbacks = BacklogCallbacks(
        store=lambda episode: store_patiently(
            db, episode, on_wait=lambda message: progress.above(click.echo, message, err=True)
        ),
        on_stored=on_stored,
        on_failed=lambda label, message: progress.above(echo_error, message),
        warn=lambda message: progress.above(echo_warning, message),
        on_progress=progress.update,
    )
    try:
        status = run_backlog(jobs, settings, callbacks) if jobs else None
    except BacklogError as ex:
        raise click.ClickException(str(ex)) from None
    except BacklogInterrupted as stop:
        progress.close()
        left = stop.status.total - stop.status.done - stop.status.failed
        echo_error(
            f"interrupted: {plural(stop.status.done, 'episode')} stored, {left} not done; "
            "run the same command again to do the rest"
        )
        raise SystemExit(130) from None
    progress.close()
    if status is not None:
        click.echo(describe_backlog(status, final=True), err=True)
    in_order = [stored[job.episode_id] for job in jobs if job.episode_id in stored]
    _print_stored(in_order, run.as_json)
    failed = failed_before + (status.failed if status else 0)
    if failed:
        total = failed_before + len(jobs)
        raise click.ClickException(f"{failed} of {total} episodes could not be ingested")


def describe_backlog(status, final: bool = False) -> str:
    finished = status.done + status.failed
    failed = f", {status.failed} failed" if status.failed else ""
    audio = f"{format_clock(status.audio_seconds)} of audio"
    if final:
        nodes = len(status.episodes_per_node)
        on = f"{plural(status.workers, 'worker')}" + (f" on {nodes} nodes" if nodes > 1 else "")
        peak = max(status.peak_mib_per_worker.values(), default=0)
        return (
            f"stored {status.done} of {plural(status.total, 'episode')}{failed}: {audio} in "
            f"{format_clock(status.elapsed)} on {on} ({status.real_time_factor:.1f}x real time; "
            f"a worker peaked at {peak:.0f} MiB)"
        )
    width = 20
    filled = round(width * finished / status.total) if status.total else width
    left = status.seconds_left
    eta = f", about {format_clock(left)} left" if left and finished < status.total else ""
    return (
        f"[{'#' * filled}{'-' * (width - filled)}] {finished}/{status.total} episodes{failed}, "
        f"{audio} at {status.real_time_factor:.1f}x real time on "
        f"{plural(status.workers, 'worker')}{eta}"
    )


class _BacklogProgress:
    """One progress line over the whole backlog: redrawn in place on a terminal, printed
    once per finished episode in a log. Messages go above it."""

    def __init__(self, quiet: bool):
        self.quiet = quiet
        self.terminal = sys.stderr.isatty()
        self.line = ""

    def update(self, status) -> None:
        if self.quiet:
            return
        self.line = describe_backlog(status)
        if self.terminal:
            click.echo("\r\x1b[K" + self.line, err=True, nl=False)
        else:
            click.echo(self.line, err=True)

    def above(self, echo, *args) -> None:
        if self.terminal and self.line:
            click.echo("\r\x1b[K", err=True, nl=False)
        echo(*args)
        if self.terminal and self.line:
            click.echo(self.line, err=True, nl=False)

    def close(self) -> None:
        if self.terminal and self.line:
            click.echo("", err=True)
        self.line = ""
