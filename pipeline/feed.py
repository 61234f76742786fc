"""Read a podcast feed (RSS 2.0 or Atom) into plain records, one per episode.

feedparser reads the standard fields, and reads malformed feeds too. It keeps only the
last of several same-named elements that it does not know, but a Podcasting 2.0 item
often links several transcripts (HTML, SRT, JSON), so the ``podcast:`` links are read
again with ElementTree whenever the feed is well-formed XML.

Feeds in the wild: relative enclosure URLs (and ones padded with whitespace) resolve
against the feed's address, as podcast apps do; Podlove Simple Chapters
(``psc:chapters``) are read; a guid used by two items is reported, never a silent
replacement; control characters never reach the terminal or the archive.
"""

from __future__ import annotations

import datetime
import hashlib
import html
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin

import feedparser

from .documents import DocumentTooLarge, check_chapter_count, without_controls
from .records import Outline, OutlineEntry
from .textnorm import one_line
from .warning_groups import capped

# The namespace's URI, and the one early feeds declared before it settled.
PODCAST_NAMESPACES = (
    "https://podcastindex.org/namespace/1.0",
    "https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/1.0.md",
)
ATOM_NAMESPACE = "http://www.w3.org/2005/Atom"


class FeedError(Exception):
    """The feed cannot be read at all; the message says why, in one line."""


@dataclass
class TranscriptLink:
    """A ``<podcast:transcript>`` element."""

    url: str
    type: str
    language: str | None = None
    rel: str | None = None


@dataclass
class FeedItem:
    guid: str
    title: str
    show: str | None
    description: str | None  # the show notes, as plain text
    published: str | None  # ISO 8601, UTC
    enclosure_url: str
    enclosure_length: int | None  # as the feed states it (often approximate)
    enclosure_type: str | None
    language: str | None  # the feed's language, ISO 639-1
    chapters_url: str | None = None  # ``<podcast:chapters>``
    transcripts: list[TranscriptLink] = field(default_factory=list)
    psc_chapters: Outline | None = None  # Podlove Simple Chapters in the item itself


@dataclass
class Feed:
    title: str | None
    items: list[FeedItem]
    warnings: list[str] = field(default_factory=list)  # items that were left out, and why


def parse_feed(content: bytes, name: str, base_url: str | None = None) -> Feed:
    """The feed's episodes in feed order. ``name`` is used in messages."""
    parsed = feedparser.parse(content)
    if not parsed.get("version") and not parsed.entries:
        reason = parsed.get("bozo_exception")
        raise FeedError(f"{name}: not an RSS or Atom feed" + (f" ({reason})" if reason else ""))
    show = _clean(parsed.feed.get("title")) or None
    language = primary_language(parsed.feed.get("language"))
    links = _podcast_links(content, len(parsed.entries))
    base_url = base_url or _self_link(parsed.feed)
    feed = Feed(title=show, items=[])
    if links is None and parsed.entries:
        feed.warnings.append(
            f"{name}: not well-formed XML; read leniently, seeing only the last "
            "podcast:transcript of each item"
        )
    for number, entry in enumerate(parsed.entries, start=1):
        chapters_url, transcripts = links[number - 1] if links else _feedparser_links(entry)
        where = f"{name} item {number}"
        item = _feed_item(entry, show, language, feed.warnings, where, base_url)
        if item is None:
            continue
        item.psc_chapters = _psc_chapters(entry, where, feed.warnings)
        item.chapters_url = _absolute(chapters_url, base_url)
        item.transcripts = [
            TranscriptLink(_absolute(link.url, base_url), link.type, link.language, link.rel)
            for link in transcripts
        ]
        feed.items.append((number, item))
    feed.items = _unique_guids(feed.items, name, feed.warnings)
    return feed


def _unique_guids(numbered: list[tuple[int, FeedItem]], name: str, warnings: list[str]):
    """Items whose guid an earlier item has: the same audio again is left out; other
    audio is kept under the guid and a short hash of its URL, so that nothing is lost."""
    first_by_guid: dict[str, tuple[int, FeedItem]] = {}
    items = []
    for number, item in numbered:
        earlier = first_by_guid.get(item.guid)
        label = f"{name} item {number} '{item.title}'"
        if earlier is None:
            first_by_guid[item.guid] = (number, item)
        elif earlier[1].enclosure_url == item.enclosure_url:
            warnings.append(f"{label}: the same guid and audio as item {earlier[0]}; skipped")
            continue
        else:
            digest = hashlib.sha256(item.enclosure_url.encode("utf-8")).hexdigest()[:8]
            new_id = f"{item.guid}#{digest}"
            warnings.append(
                f"{label}: the same guid as item {earlier[0]} ({item.guid!r}) with other audio; "
                f"stored as {new_id!r}"
            )
            item.guid = new_id
        items.append(item)
    return items


def newest_items(items: list[FeedItem], limit: int | None) -> list[FeedItem]:
    """The ``limit`` newest items by published date (undated ones count as oldest)."""
    if limit is None:
        return list(items)
    # sorted() is stable: items of the same date keep their feed order.
    by_date = sorted(items, key=lambda item: item.published or "", reverse=True)
    return by_date[:limit]


def primary_language(tag: str | None) -> str | None:
    """``en-US`` → ``en``: the archive keeps ISO 639-1 codes, as whisper reports them."""
    if not tag:
        return None
    return re.split(r"[-_]", tag.strip())[0].lower() or None


def _feed_item(
    entry, show, language, warnings: list[str], where: str, base_url: str | None
) -> FeedItem | None:
    title = _clean(entry.get("title"))
    label = f"{where} '{title}'" if title else where
    enclosure = _audio_enclosure(entry)
    if enclosure is None:
        warnings.append(f"{label}: no audio enclosure; skipped")
        return None
    enclosure_url = _absolute(enclosure["href"], base_url)
    guid = _clean(entry.get("id")) or enclosure_url
    return FeedItem(
        guid=guid,
        title=title or guid,
        show=show,
        description=_show_notes(entry),
        published=_published(entry),
        enclosure_url=enclosure_url,
        enclosure_length=_length(enclosure.get("length")),
        enclosure_type=enclosure.get("type") or None,
        language=language,
    )


def _audio_enclosure(entry) -> dict | None:
    """The first audio enclosure, else the first of any type (many feeds leave type out)."""
    enclosures = [e for e in entry.get("enclosures", []) if e.get("href")]
    audio = [e for e in enclosures if (e.get("type") or "").startswith("audio/")]
    return (audio or enclosures or [None])[0]


def _length(value) -> int | None:
    try:
        length = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return length if length > 0 else None


def _published(entry) -> str | None:
    stamp = entry.get("published_parsed") or entry.get("updated_parsed")
    if not stamp:
        return None
    return datetime.datetime(*stamp[:6], tzinfo=datetime.timezone.utc).isoformat()


def _show_notes(entry) -> str | None:
    """The fullest of the item's descriptions (content:encoded, description, summary)."""
    candidates = [content.get("value") or "" for content in entry.get("content", [])]
    candidates.append(entry.get("summary") or "")
    notes = max(candidates, key=len)
    return without_controls(html_to_text(notes)) or None


def _clean(text: str | None) -> str:
    """A feed's text as one line with no control characters (no terminal escapes)."""
    return one_line(without_controls(text or ""))


def _absolute(url: str | None, base_url: str | None) -> str | None:
    """``url`` resolved against the feed's address, as podcast apps do."""
    if not url or not url.strip():
        return None
    url = "".join(url.split())  # whitespace is never part of a URL; feeds wrap them
    return urljoin(base_url, url) if base_url else url


def _self_link(channel) -> str | None:
    """The feed's own address (``atom:link rel="self"``), for a feed read from a file."""
    for link in channel.get("links", []):
        if link.get("rel") == "self" and link.get("href", "").startswith(("http://", "https://")):
            return link["href"].strip()
    return None


# --- Podlove Simple Chapters ------------------------------------------------------------

NORMAL_PLAY_TIME = re.compile(r"^(?:(?:(\d+):)?(\d{1,2}):)?(\d{1,2}(?:\.\d+)?)$")


def _psc_chapters(entry, where: str, warnings: list[str]) -> Outline | None:
    """``<psc:chapters>``, which feedparser reads into ``psc_chapters``."""
    listed = (entry.get("psc_chapters") or {}).get("chapters") or []
    if not listed:
        return None
    try:
        check_chapter_count(len(listed), f"{where} psc:chapters")
    except DocumentTooLarge as ex:
        warnings.append(f"{ex}; chapters from elsewhere instead")
        return None
    entries, problems = [], []
    for number, chapter in enumerate(listed, start=1):
        label = f"{where} psc:chapter {number}"
        start = parse_normal_play_time(chapter.get("start") or "")
        if start is None:
            problems.append(f"{label}: cannot read the start {chapter.get('start')!r}; rejected")
            continue
        links = {"url": chapter.get("href"), "img": chapter.get("image")}
        links = {key: value.strip() for key, value in links.items() if value and value.strip()}
        title = _clean(chapter.get("title"))
        entries.append(OutlineEntry(title, start, where=label, links=links or None))
    return Outline(entries=entries, source="psc", warnings=capped(problems, "chapters rejected"))


def parse_normal_play_time(text: str) -> float | None:
    """Podlove's times: ``HH:MM:SS.mmm``, ``MM:SS``, ``SS``, with optional fractions."""
    match = NORMAL_PLAY_TIME.match(text.strip())
    if match is None:
        return None
    hours, minutes, seconds = match.groups()
    if float(seconds) >= 60 and minutes is not None:
        return None
    return int(hours or 0) * 3600 + int(minutes or 0) * 60 + float(seconds)


# --- podcast: links -------------------------------------------------------------------


def _podcast_links(content: bytes, entry_count: int):
    """Each item's (chapters url, transcript links), in feed order; None when the XML
    cannot be read or does not line up with feedparser's entries."""
    try:
        root = ET.fromstring(content)
    except ET.ParseError:
        return None
    items = [element for element in root.iter() if _local_name(element.tag) in ("item", "entry")]
    items = [element for element in items if _is_item(element)]
    if len(items) != entry_count:
        return None
    return [_links_in(item) for item in items]


def _is_item(element) -> bool:
    namespace = element.tag[1:].split("}")[0] if element.tag.startswith("{") else ""
    if _local_name(element.tag) == "entry":
        return namespace == ATOM_NAMESPACE
    return namespace in ("", "http://purl.org/rss/1.0/")


def _links_in(item) -> tuple[str | None, list[TranscriptLink]]:
    chapters_url, transcripts = None, []
    for element in item:
        if not _in_podcast_namespace(element.tag):
            continue
        attributes = element.attrib
        if _local_name(element.tag) == "chapters" and chapters_url is None:
            chapters_url = attributes.get("url")
        elif _local_name(element.tag) == "transcript" and attributes.get("url"):
            transcripts.append(_transcript_link(attributes))
    return chapters_url, transcripts


def _feedparser_links(entry) -> tuple[str | None, list[TranscriptLink]]:
    """What feedparser kept: one ``podcast:chapters`` and the last ``podcast:transcript``."""
    chapters = entry.get("podcast_chapters") or {}
    transcript = entry.get("podcast_transcript") or {}
    links = [_transcript_link(transcript)] if transcript.get("url") else []
    return chapters.get("url"), links


def _transcript_link(attributes) -> TranscriptLink:
    return TranscriptLink(
        url=attributes["url"],
        type=(attributes.get("type") or "").strip().lower(),
        language=primary_language(attributes.get("language")),
        rel=attributes.get("rel"),
    )


def _local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _in_podcast_namespace(tag: str) -> bool:
    return tag.startswith("{") and tag[1:].split("}")[0] in PODCAST_NAMESPACES


# --- show notes as text -----------------------------------------------------------------

LINE_TAGS = {"br", "li", "tr", "dt", "dd"}
PARAGRAPH_TAGS = {"p", "div", "ul", "ol", "table", "blockquote", "pre", "section"}
PARAGRAPH_TAGS |= {f"h{level}" for level in range(1, 7)}


class _TextExtractor(HTMLParser):
    """HTML show notes as lines of text, so that ``(05:32) Title`` lines stay lines."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in LINE_TAGS:
            self.parts.append("\n")
        elif tag in PARAGRAPH_TAGS:
            self.parts.append("\n\n")

    def handle_endtag(self, tag):
        if tag in PARAGRAPH_TAGS:
            self.parts.append("\n\n")

    def handle_data(self, data):
        # Line breaks in the markup are layout, not text: a browser shows them as a space.
        self.parts.append(data if data.strip() else " ")


def html_to_text(markup: str) -> str:
    """Plain text of an HTML fragment (plain text passes through, entities decoded)."""
    if "<" not in markup:
        return html.unescape(markup).strip()
    extractor = _TextExtractor()
    extractor.feed(markup)
    extractor.close()
    lines = (one_line(line) for line in "".join(extractor.parts).splitlines())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
