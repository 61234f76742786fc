"""One feed item as an ``EpisodeRequest``: its audio from the cache, its chapters and,
when the publisher has one, its transcript. ``prepare_episode`` does the rest, exactly
as for ``archive ingest``.

Chapters come from the item's ``podcast:chapters`` file, else from timestamps in its
show notes, else (in ``prepare_episode``) from chapters embedded in the audio. A chapters
file or transcript that cannot be fetched or read is reported and the next source used.
"""

from __future__ import annotations

from pathlib import Path

import httpx

from .chapters_json import parse_chapters_json
from .documents import MAX_DOCUMENT_BYTES, decode_document
from .download import (
    ByteProgress,
    DownloadError,
    download_enclosure,
    fetch_bytes,
    is_url,
)
from .feed import Feed, FeedError, FeedItem, TranscriptLink, parse_feed
from .ingest import EpisodeRequest, Warn
from .outline import OutlineError, parse_notes
from .publisher_transcripts import (
    PREFERENCE,
    TranscriptFormatError,
    parse_transcript,
    transcript_kind,
)
from .records import Outline, Transcript


def read_feed(location: str, client: httpx.Client) -> Feed:
    """The feed at an http(s) URL or in a local file."""
    if is_url(location):
        try:
            content = fetch_bytes(client, location)
        except DownloadError as ex:
            raise FeedError(str(ex)) from None
        return parse_feed(content, location, base_url=location)
    try:
        content = Path(location).read_bytes()
    except OSError as ex:
        raise FeedError(f"{location}: cannot read the feed ({ex.strerror})") from None
    return parse_feed(content, location)


def feed_item_request(
    item: FeedItem,
    client: httpx.Client,
    cache_dir: Path,
    *,
    use_publisher_transcript: bool = True,
    warn: Warn,
    on_download: ByteProgress | None = None,
    **options,
) -> EpisodeRequest:
    """Download the item's audio and gather what it brings; ``options`` go to the request
    (``strict``). Warnings are kept with the episode too."""
    kept: list[str] = []

    def keep_and_warn(message: str) -> None:
        kept.append(message)
        warn(message)

    audio = download_enclosure(
        client,
        item.enclosure_url,
        cache_dir,
        stated_length=item.enclosure_length,
        on_progress=on_download,
        warn=keep_and_warn,
    )
    transcript = (
        publisher_transcript(item, client, keep_and_warn) if use_publisher_transcript else None
    )
    return EpisodeRequest(
        audio_path=str(audio),
        outline=item_outline(item, client, keep_and_warn),
        title=item.title,
        episode_id=item.guid,
        transcript=transcript,
        show=item.show,
        description=item.description,
        published=item.published,
        audio_url=item.enclosure_url,
        warnings=kept,
        **options,
    )


def fetch_document(client: httpx.Client, url: str) -> str:
    """A chapters or transcript file: at most 10 MiB, in the encoding its BOM names."""
    return decode_document(fetch_bytes(client, url, max_bytes=MAX_DOCUMENT_BYTES))


def item_outline(item: FeedItem, client: httpx.Client, warn: Warn) -> Outline | None:
    """Chapters file, else Podlove chapters, else timestamped show notes; None: look in
    the audio."""
    if item.chapters_url:
        try:
            outline = parse_chapters_json(
                fetch_document(client, item.chapters_url), item.chapters_url
            )
        except (DownloadError, OutlineError) as ex:
            warn(f"{ex}; chapters from the show notes or the audio instead")
        else:
            if outline.entries:
                return outline
            for warning in outline.warnings:
                warn(warning)
            warn(f"{item.chapters_url}: no usable chapters; show notes or the audio instead")
    if item.psc_chapters is not None and item.psc_chapters.entries:
        return item.psc_chapters
    # Only timed lines: an item's description is prose, not a list of headings.
    notes = parse_notes(item.description or "")
    return notes if notes.source == "notes" else None


def publisher_transcript(item: FeedItem, client: httpx.Client, warn: Warn) -> Transcript | None:
    """The best transcript the publisher links that can be read; None: transcribe."""
    candidates = usable_transcript_links(item.transcripts, item.language)
    for kind, link in candidates:
        try:
            text = fetch_document(client, link.url)
            transcript, warnings = parse_transcript(
                text, kind, link.url, language=link.language or item.language
            )
        except (DownloadError, TranscriptFormatError) as ex:
            warn(str(ex))
            continue
        for warning in warnings:
            warn(warning)
        return transcript
    if candidates:
        warn(f"{item.guid}: no publisher transcript could be read; transcribing the audio")
    elif item.transcripts:
        types = ", ".join(sorted({link.type or "no type" for link in item.transcripts}))
        warn(f"{item.guid}: the publisher's transcript ({types}) has no timings; transcribing")
    return None


def usable_transcript_links(
    links: list[TranscriptLink], language: str | None
) -> list[tuple[str, TranscriptLink]]:
    """(kind, link) for the links this archive reads, best first: the feed's own language
    before others, then JSON, WebVTT, SRT."""
    usable = [(transcript_kind(link.type, link.url), link) for link in links]
    usable = [(kind, link) for kind, link in usable if kind is not None]

    def rank(candidate):
        kind, link = candidate
        other_language = link.language is not None and link.language != language
        return (other_language, PREFERENCE.index(kind))

    return sorted(usable, key=rank)
