"""The ``archive`` command: the only module that talks to the terminal."""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path
from urllib.parse import urlsplit

import click

from db.read import (
    EpisodeNotFound,
    episode_chapters,
    existing_episode_ids,
    find_episode,
    list_episodes,
    load_episode,
)
from db.schema import ArchiveError, open_archive
from db.search import SearchQueryError, search_segments
from db.store import store_episode

from .align import describe_alignment
from .audio import AudioError
from .chapters_json import read_chapters_json
from .download import DownloadError, default_cache_dir, http_client
from .export import FORMATS, export_episode, export_file_name
from .feed import FeedError, newest_items
from .feed_episode import feed_item_request, read_feed
from .ingest import EpisodeRequest, StrictOutlineError, prepare_episode
from .outline import OutlineError, read_notes
from .textnorm import plural
from .timefmt import format_clock, format_timestamp
from .transcribe import DEFAULT_BATCH_SIZE, DEFAULT_MODEL, TranscribeError, Transcriber

FAILURES = (AudioError, OutlineError, StrictOutlineError, TranscribeError, ArchiveError)


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
    try:
        return open_archive(db_path, create=False)
    except ArchiveError as ex:
        raise click.ClickException(str(ex)) from None


def transcription_options(command):
    """The options that choose and run the model, as ``ingest`` has them."""
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
    ]
    for option in reversed(options):
        command = option(command)
    return command


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


def transcriber_factory(model: str, device: str, compute_type: str):
    """Loads the model on first use, once for the whole batch (never when all files fail)."""
    return functools.cache(
        lambda: Transcriber(model=model, device=device, compute_type=compute_type)
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
@strict_option
@click.option("--title", help="Episode title (default: the file's title tag, else its name).")
@click.option("--id", "episode_id", help="Episode id (default: 'sha256:' + 16 hex of the audio).")
@transcription_options
@ray_option
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@json_option
@db_option
def ingest(
    audio,
    notes,
    chapters_file,
    strict,
    title,
    episode_id,
    model,
    device,
    compute_type,
    language,
    batch_size,
    ray_address,
    quiet,
    as_json,
    db_path,
):
    """Transcribe, align and store one or more episodes.

    \b
    archive ingest episode.mp3 --notes notes.txt --title "RSP v3: my takes"
    archive ingest talks/*.m4a
    archive ingest backlog/*.mp3 --ray

    Each episode is stored in one transaction: a failed or interrupted ingest leaves
    the archive as it was. Ingesting the same audio again replaces that episode.
    """
    if len(audio) > 1 and (notes or chapters_file or title or episode_id):
        raise click.UsageError(
            "--notes, --chapters, --title and --id describe one episode: give one AUDIO"
        )
    try:
        outline = read_outline(notes, chapters_file)
        ray_settings = backlog_settings(ray_address, model, device, compute_type)
        db = open_archive(db_path)
    except FAILURES as ex:
        raise click.ClickException(str(ex)) from None
    if ray_settings is not None:
        requests = [
            EpisodeRequest(path, outline, title, episode_id, language, batch_size, strict=strict)
            for path in audio
        ]
        ingest_on_ray(db, requests, ray_settings, quiet, as_json)
        return
    load_transcriber = transcriber_factory(model, device, compute_type)
    stored, failed = [], 0
    for path in audio:
        request = EpisodeRequest(
            path, outline, title, episode_id, language, batch_size, strict=strict
        )
        try:
            episode = _prepare_with_progress(request, load_transcriber, quiet)
            store_episode(db, episode)
        except FAILURES as ex:
            echo_error(str(ex))
            failed += 1
            continue
        stored.append(_episode_summary(episode))
        _report_stored(episode)
    _print_stored(stored, as_json)
    if failed:
        raise click.ClickException(f"{failed} of {len(audio)} files could not be ingested")


def read_outline(notes, chapters_file):
    """The outline the user named: chapters JSON first, then notes; None: look in the audio."""
    if chapters_file:
        if notes:
            echo_warning(f"chapters from {chapters_file}; the timestamps in {notes} are not used")
        return read_chapters_json(chapters_file)
    return read_notes(notes) if notes else None


def _prepare_with_progress(request, load_transcriber, quiet):
    bar = None
    done = 0.0

    def start(duration):
        nonlocal bar
        if not quiet:
            bar = click.progressbar(
                length=max(1, round(duration)),
                label=f"transcribing {Path(request.audio_path).name}",
                file=sys.stderr,
                show_percent=True,
                show_eta=True,
            )
            bar.__enter__()

    def progress(seconds):
        nonlocal done
        if bar is not None and round(seconds) > done:
            bar.update(round(seconds) - done)
            done = round(seconds)

    try:
        episode = prepare_episode(
            request, load_transcriber, warn=echo_warning, on_start=start, on_progress=progress
        )
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    alignment = describe_alignment(episode)
    if alignment:
        click.echo(alignment, err=True)
    if request.transcript is not None:
        return episode  # a publisher's transcript: nothing was transcribed here
    transcript = episode.transcript
    speed = transcript.duration / transcript.elapsed if transcript.elapsed else 0.0
    click.echo(
        f"transcribed {format_clock(transcript.duration)} of audio in "
        f"{format_clock(transcript.elapsed)} ({speed:.1f}x real time)",
        err=True,
    )
    return episode


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
        f"{plural(sum(len(c.segments) for c in episode.chapters), 'segment')}{transcript}",
        err=True,
    )


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
    if as_json:
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
                chapter["title"],
            ]
            for chapter in rows
        ],
    )


@cli.command()
@click.argument("query")
@click.option("--episode", help="Only search this episode (id).")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@json_option
@db_option
def search(query, episode, limit, as_json, db_path):
    """Find where something was said, best matches first.

    \b
    archive search "unilateral pause"
    archive search '"ask not" OR countr*' --limit 5 --json

    QUERY uses SQLite FTS5 syntax: "exact phrase", prefix*, AND, OR, NOT.
    """
    db = open_existing(db_path)
    try:
        hits = search_segments(db, query, episode=episode, limit=limit)
    except SearchQueryError as ex:
        raise click.ClickException(str(ex)) from None
    if as_json:
        click.echo(json.dumps([{k: v for k, v in hit.items()} for hit in hits], indent=2))
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
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8001, show_default=True)
@db_option
def serve(host, port, db_path):
    """Share the archive read-only through Datasette.

    \b
    archive serve
    archive serve --db talks.db --port 8080
    """
    from db.serve import database_name, serve_archive

    open_existing(db_path).close()
    click.echo(
        f"serving {db_path} read-only; search it at "
        f"http://{host}:{port}/{database_name(db_path)}/search",
        err=True,
    )
    serve_archive(db_path, host=host, port=port)


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
    cells = [[str(value) for value in row] for row in rows]
    widths = [max([len(h)] + [len(row[i]) for row in cells]) for i, h in enumerate(headers)]
    for row in [headers] + cells:
        line = "  ".join(value.ljust(width) for value, width in zip(row, widths))
        click.echo(line.rstrip())


# --- feeds and exports ----------------------------------------------------------------

FEED_FAILURES = FAILURES + (DownloadError,)


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
@strict_option
@transcription_options
@ray_option
@click.option("-q", "--quiet", is_flag=True, help="No progress bars.")
@json_option
@db_option
def feed(
    feed_location,
    limit,
    transcribe,
    reingest,
    cache_dir,
    strict,
    model,
    device,
    compute_type,
    language,
    batch_size,
    ray_address,
    quiet,
    as_json,
    db_path,
):
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
    ray_settings = backlog_settings(ray_address, model, device, compute_type)
    with http_client() as client:
        try:
            parsed = read_feed(feed_location, client)
            db = open_archive(db_path)
        except (FeedError, ArchiveError) as ex:
            raise click.ClickException(str(ex)) from None
        for warning in parsed.warnings:
            echo_warning(warning)
        items = _items_to_ingest(db, parsed, limit, reingest)
        if ray_settings is not None:
            options = {"language": language, "batch_size": batch_size, "strict": strict}
            feed_on_ray(db, items, cache_dir, not transcribe, options, ray_settings, quiet, as_json)
            return
        load_transcriber = transcriber_factory(model, device, compute_type)
        stored, failed = [], 0
        for item in items:
            try:
                request = _feed_request(
                    item,
                    client,
                    cache_dir,
                    transcribe,
                    quiet,
                    language=language,
                    batch_size=batch_size,
                    strict=strict,
                )
                episode = _prepare_with_progress(request, load_transcriber, quiet)
                store_episode(db, episode)
            except FEED_FAILURES as ex:
                echo_error(f"{item.guid}: {ex}")
                failed += 1
                continue
            stored.append(_episode_summary(episode))
            _report_stored(episode)
    _print_stored(stored, as_json)
    if failed:
        raise click.ClickException(f"{failed} of {len(items)} items could not be ingested")


def _items_to_ingest(db, parsed, limit, reingest):
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


def backlog_settings(ray_address, model, device, compute_type):
    """The Ray settings for ``--ray``, checked before any work starts; None without it."""
    if ray_address is None:
        return None
    from .backlog import BacklogError, BacklogSettings, check_address

    try:
        check_address(ray_address)
    except BacklogError as ex:
        raise click.ClickException(str(ex)) from None
    return BacklogSettings(ray_address, model, device, compute_type, transcriber_class=Transcriber)


def ingest_on_ray(db, requests, settings, quiet, as_json):
    """``ingest --ray``: a file already stored from the same audio by the same model is
    skipped, so running the command again after Ctrl-C or a crash finishes the rest."""
    from db.read import stored_transcriptions

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
    run_on_ray(db, todo, settings, quiet, as_json, failed_before=failed)


def feed_on_ray(db, items, cache_dir, use_publisher_transcript, options, settings, quiet, as_json):
    from .backlog import FeedJob

    cache = str(Path(cache_dir).resolve()) if cache_dir else None
    jobs = [FeedJob(item, cache, use_publisher_transcript, options) for item in items]
    run_on_ray(db, jobs, settings, quiet, as_json)


def run_on_ray(db, jobs, settings, quiet, as_json, failed_before=0):
    """Hand the jobs to Ray, store each episode as it comes back, report as ingest does."""
    from .backlog import BacklogCallbacks, BacklogError, BacklogInterrupted, run_backlog

    progress = _BacklogProgress(quiet)
    stored = {}

    def on_stored(episode):
        stored[episode.id] = _episode_summary(episode)
        alignment = describe_alignment(episode)
        if alignment:
            progress.above(click.echo, alignment, err=True)
        progress.above(_report_stored, episode)

    callbacks = BacklogCallbacks(
        store=lambda episode: store_episode(db, episode),
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
    _print_stored(in_order, as_json)
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
