"""The pages people use instead of a SQL form.

- ``/``: a search box first, then the episodes (newest first) and the archive's figures;
  links to Datasette's tables and SQL stay at the foot.
- ``/-/search?q=`` (and ``/-/search.json``): hits grouped by episode, each with its chapter,
  a play control at its moment and the highlighted snippet; chapter titles that match,
  apart; filters by show, episode and date; relevance or newest first; more pages
  appended in place. A query that is not valid FTS5 syntax is searched as plain words.
- ``/-/episode/<id>#t=SECONDS``: the player, the chapters and the transcript that follows
  the audio.

All search goes through db/search.py (the CLI's search); the time, snippet and audio-link
rules are archive_cells.py's. Templates are in templates/ (Datasette finds them through the
package's entry point), script and style in static/, served at /-/archive-static/ by
archive_static.py.
"""

# No "from __future__ import annotations": Datasette runs this file outside sys.modules,
# where dataclasses cannot resolve string annotations.
import importlib.util
import re
import sys
import urllib.parse
import weakref
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import sqlite_utils
from datasette import hookimpl
from datasette.utils.asgi import NotFound, Response
from markupsafe import Markup

# A published bundle served by Datasette alone carries the search code it needs in
# plugins/archive_lib (db/publish.py); installed or in a checkout, that folder is absent.
BUNDLED_CODE = Path(__file__).with_name("archive_lib")
if BUNDLED_CODE.is_dir() and str(BUNDLED_CODE) not in sys.path:
    sys.path.append(str(BUNDLED_CODE))

try:
    from db.browse import (
        archive_figures,
        episode_with_transcript,
        filter_choices,
        newest_episodes,
    )
    from db.search import SearchFilters, SearchQueryError, search_results
    from pipeline.timefmt import format_timestamp as clock  # the CLI's [mm:ss]
except ImportError:  # the archive's code is nowhere: no pages, the rest works
    search_results = None

HOME_ROUTE = r"^/$"
SEARCH_ROUTE = r"^/-/search(?P<format>\.json)?$"
EPISODE_ROUTE = r"^/-/episode/(?P<episode_id>[^/]+)$"  # the id percent-encoded, '/' too
PAGE_SIZE = 20
LAST_PAGE = 50  # a thousand moments; past that, narrow the search
CHAPTER_MATCHES = 10
HOME_EPISODES = 100
RESULTS_TEMPLATE = "_archive_results.html"  # rendered by results_html()
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _load_sibling(name: str):
    """Another module of this folder, loaded from its file: Datasette's --plugins-dir loads
    each plugin file on its own, not as a package."""
    path = Path(__file__).with_name(f"{name}.py")
    spec = importlib.util.spec_from_file_location(f"archive_pages_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


try:
    from plugins import archive_cells as cells
except ImportError:
    cells = _load_sibling("archive_cells")


@dataclass
class SearchRequest:
    """What the search form asked for; problems are shown, never raised."""

    q: str = ""
    filters: object = None  # a SearchFilters; not named here, as the pages may be off
    order: str = "relevance"
    page: int = 1
    problems: list[str] = field(default_factory=list)


def parse_search_request(args) -> SearchRequest:
    request = SearchRequest(q=(args.get("q") or "").strip())
    dates = {}
    for name in ("from", "to"):
        value = (args.get(name) or "").strip()
        if value and not _DATE.match(value):
            request.problems.append(f"Ignored the date {value!r}: dates are YYYY-MM-DD.")
            value = ""
        dates[name] = value or None
    request.filters = SearchFilters(
        episode=args.get("episode") or None,
        show=args.get("show") or None,
        published_from=dates["from"],
        published_to=dates["to"],
    )
    request.order = "newest" if args.get("sort") == "newest" else "relevance"
    page = args.get("page") or "1"
    request.page = min(int(page), LAST_PAGE) if page.isdigit() and int(page) > 0 else 1
    return request


def run_search(db: sqlite_utils.Database, request: SearchRequest, shows) -> tuple:
    """The filter choices, and for a query db/search.py's ``SearchResults`` (else None):
    one trip to the database thread. ``shows``: the shows when known (cached), else None."""
    choices = filter_choices(db, request.filters.episode, shows)
    if not request.q:
        return choices, None
    results = search_results(
        db,
        request.q,
        filters=request.filters,
        order=request.order,
        page=request.page,
        page_size=PAGE_SIZE,
        chapters=CHAPTER_MATCHES,
    )
    return choices, results


_shows: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # database: (version, shows)


def archive_version(database):
    """What the cached shows hold for: the file's version when served live (``archive
    ingest`` may add a show), a constant when immutable, None (no caching) in memory."""
    if database.path is None:
        return None
    return cells.rules.file_version(database.path) if database.is_mutable else "immutable"


def cached_shows(database, version) -> list[str] | None:
    """The shows to narrow a search to, as last read: ``select distinct show`` reads every
    episode (0.3 ms for 1,000 episodes), and shows change only when episodes are stored."""
    cached = _shows.get(database)
    return cached[1] if version is not None and cached and cached[0] == version else None


def episode_page_url(datasette, episode_id: str, seconds: float | None = None) -> str:
    url = datasette.urls.path("/-/episode/" + urllib.parse.quote(episode_id, safe=""))
    return url if seconds is None else f"{url}#t={cells.fragment_seconds(seconds)}"


@dataclass
class ShownHit:
    """One moment as the results page shows it. Attributes rather than dict keys: Jinja
    tries an attribute first, and on a dict that fails before every lookup."""

    chapter_title: str
    start: float
    end: float
    clock: str
    snippet: Markup  # the text escaped, the matches in <mark>
    audio: str | None  # the episode's audio at this moment, when it has audio
    url: str  # the episode page at this moment


@dataclass
class EpisodeHits:
    """One episode's hits on a results page."""

    episode_id: str
    title: str | None
    show: str | None
    date: str  # YYYY-MM-DD, or "" when undated
    url: str  # the episode page
    audio: str | None
    hits: list

    @property
    def meta(self) -> str:
        return " · ".join(part for part in (self.show, self.date) if part)


def group_by_episode(datasette, hits: list[dict], audio_urls: dict) -> list[EpisodeHits]:
    """Hits in groups of one episode each, groups in the order of their best hit."""
    groups: dict[str, EpisodeHits] = {}
    for hit in hits:
        episode_id = hit["episode_id"]
        group = groups.get(episode_id)
        if group is None:
            group = groups[episode_id] = EpisodeHits(
                episode_id=episode_id,
                title=hit["episode_title"],
                show=hit["episode_show"],
                date=(hit["episode_published"] or "")[:10],
                url=episode_page_url(datasette, episode_id),
                audio=audio_urls.get(episode_id),
                hits=[],
            )
        group.hits.append(shown_hit(group, hit))
    for group in groups.values():
        group.hits.sort(key=lambda hit: hit.start)
    return list(groups.values())


def shown_hit(group: EpisodeHits, hit: dict) -> ShownHit:
    """A hit's links are its episode's (page and audio) at its moment."""
    start = hit["start"]
    moment = f"#t={cells.fragment_seconds(start)}"
    return ShownHit(
        chapter_title=hit["chapter_title"],
        start=start,
        end=hit["end"],
        clock=clock(start),
        snippet=cells.highlight_snippet(hit["snippet"]),
        audio=group.audio + moment if group.audio else None,
        url=group.url + moment,
    )


def listening_time(seconds: float) -> str:
    """``42 minutes`` or ``3.5 hours``: how long the archive takes to hear."""
    if seconds < 3600:
        minutes = round(seconds / 60)
        return f"{minutes} minute{'' if minutes == 1 else 's'}"
    return f"{seconds / 3600:,.1f} hours"


def count_text(count) -> str:
    """``37 moments in 5 episodes``; past the count's cap, only that there are more."""
    if count.at_least:
        return f"More than {count.moments:,} moments"
    noun = "moment" if count.moments == 1 else "moments"
    episodes = f"{count.episodes:,} episode{'' if count.episodes == 1 else 's'}"
    return f"{count.moments:,} {noun} in {episodes}"


def page_url(datasette, request: SearchRequest, page: int, suffix: str = "", **changes) -> str:
    args = {"q": request.q, "page": page, "sort": request.order}
    args.update(
        episode=changes.get("episode", request.filters.episode),
        show=request.filters.show,
        **{"from": request.filters.published_from, "to": request.filters.published_to},
    )
    query = urllib.parse.urlencode({k: v for k, v in args.items() if v not in (None, "")})
    return datasette.urls.path(f"/-/search{suffix}") + "?" + query


_archives: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


async def archive_database(datasette):
    """The first database served that is an archive (has episodes), or None."""
    known = _archives.get(datasette)
    if known is not None and datasette.databases.get(known.name) is known:
        return known  # found once: no query on every request
    for name, database in datasette.databases.items():
        if name != "_internal" and await database.table_exists("episodes"):
            _archives[datasette] = database
            return database
    return None


async def read(database, function, *args):
    """``function(db, *args)`` on one of Datasette's read connections."""

    def call(conn):
        return function(sqlite_utils.Database(conn, recursive_triggers=False), *args)

    return await database.execute_fn(call)


_plain_environments: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def results_html(datasette, context: dict) -> Markup:
    """The count, chapter matches and grouped hits as HTML, rendered by a plain (not async)
    Jinja environment on the same templates. Datasette's environment is async and awaits
    every expression: 20 hits took about 0.8 ms there, 0.3 ms here. Datasette still
    renders the page around them (base.html, the form), as it renders every page."""
    plain = _plain_environments.get(datasette)
    if plain is None:  # one per server: it keeps the compiled templates
        plain = jinja2.Environment(loader=datasette.jinja_env.loader, autoescape=True)
        _plain_environments[datasette] = plain
    return Markup(plain.get_template(RESULTS_TEMPLATE).render(context))


async def render(datasette, request, template: str, context: dict) -> Response:
    context = {
        **context,
        "metadata": datasette.metadata(),
        "static": lambda name: cells.rules.static_url(datasette, name),
    }
    html = await datasette.render_template(template, context, request=request)
    # Datasette's base.html names no language; screen readers need one to pronounce the page.
    return Response.html(html.replace("<html>", '<html lang="en">', 1))


async def required_archive(datasette):
    database = await archive_database(datasette)
    if database is None:
        raise NotFound("No archive is served here")
    return database


def sql_links(datasette, database) -> dict:
    name = database.name
    return {
        "database": datasette.urls.database(name),
        "tables": [
            (label, datasette.urls.table(name, table))
            for label, table in (
                ("Episodes", "episodes"),
                ("Chapters", "chapters"),
                ("Transcript segments", "segments"),
                ("Words", "words"),
            )
        ],
        "queries": datasette.urls.database(name) + "#queries",
    }


async def home(datasette, request, send):
    database = await archive_database(datasette)
    if database is None:  # serving something else: Datasette's own list of databases
        from datasette.views.index import IndexView

        request.scope.setdefault("url_route", {}).setdefault("kwargs", {})["format"] = None
        return await IndexView.as_view(datasette)(request, send)

    def gather(db):
        return archive_figures(db), newest_episodes(db, HOME_EPISODES)

    figures, episodes = await read(database, gather)
    for episode in episodes:
        episode["url"] = episode_page_url(datasette, episode["id"])
        episode["length"] = cells.duration_text(episode["duration"] or 0)
        episode["date"] = (episode["published"] or "")[:10]
    context = {
        "figures": figures,
        "listening_time": listening_time(figures["seconds"]),
        "episodes": episodes,
        "more_episodes": max(0, figures["episodes"] - len(episodes)),
        "sql": sql_links(datasette, database),
    }
    return await render(datasette, request, "archive_home.html", context)


async def search_page(datasette, request):
    database = await required_archive(datasette)
    wanted = parse_search_request(request.args)
    version = archive_version(database)  # before reading: a change after it reads again
    shows = cached_shows(database, version)
    try:
        choices, results = await read(database, run_search, wanted, shows)
    except SearchQueryError:  # nothing to search for (only spaces)
        wanted.q = ""
        choices, results = await read(database, run_search, wanted, shows)
    if version is not None:
        _shows[database] = (version, choices["shows"])
    audio_urls = await cells.episode_audio_urls(datasette, database.name)
    context = search_context(datasette, wanted, results, audio_urls)
    if request.url_vars.get("format") == ".json":
        return Response.json(search_json(context))
    context.update(
        results_html=results_html(datasette, context) if results else "",
        choices=choices,
        json_url=page_url(datasette, wanted, wanted.page, ".json"),
        all_episodes_url=page_url(datasette, wanted, 1, episode=None),
        sql=sql_links(datasette, database),
    )
    return await render(datasette, request, "archive_search.html", context)


def search_context(datasette, wanted: SearchRequest, results, audio_urls) -> dict:
    """What the page and its JSON twin show of ``results`` (a SearchResults, or None
    when nothing was searched for)."""
    context = {"request_args": wanted, "groups": [], "chapters": [], "next_url": None}
    if results is None:
        return context
    found, count = results.found, results.count
    context.update(
        count=count,
        count_text=count_text(count),
        as_words=found.as_words,
        words=found.words,
        groups=group_by_episode(datasette, found.hits[:PAGE_SIZE], audio_urls),
        chapters=[
            {
                **chapter,
                "url": episode_page_url(datasette, chapter["episode_id"], chapter["start"]),
                "title_html": cells.highlight_snippet(chapter["title_snippet"]),
                "clock": clock(chapter["start"]),
            }
            for chapter in results.chapters
        ],
    )
    if len(found.hits) > PAGE_SIZE and wanted.page < LAST_PAGE:
        context["next_url"] = page_url(datasette, wanted, wanted.page + 1)
    return context


def search_json(context: dict) -> dict:
    wanted = context["request_args"]
    count = context.get("count")
    hits = [
        {
            "episode_id": group.episode_id,
            "episode_title": group.title,
            "episode_show": group.show,
            "episode_date": group.date or None,
            "chapter_title": hit.chapter_title,
            "start": hit.start,
            "end": hit.end,
            "snippet": str(hit.snippet),  # HTML: the text escaped, the matches in <mark>
            "url": hit.url,
            "audio": hit.audio,
        }
        for group in context["groups"]
        for hit in group.hits
    ]
    return {
        "q": wanted.q,
        "page": wanted.page,
        "problems": wanted.problems,
        "searched_as_words": context.get("words") if context.get("as_words") else None,
        "count": None
        if count is None
        else {"moments": count.moments, "episodes": count.episodes, "at_least": count.at_least},
        "hits": hits,
        "chapters": [
            {
                k: chapter[k]
                for k in ("episode_id", "episode_title", "chapter_title", "start", "url")
            }
            for chapter in context["chapters"]
        ],
        "next": context["next_url"],
    }


async def episode_page(datasette, request):
    database = await required_archive(datasette)
    episode_id = urllib.parse.unquote(request.url_vars["episode_id"])
    episode = await read(database, episode_with_transcript, episode_id)
    if episode is None:
        raise NotFound(f"No episode {episode_id!r} in this archive")
    # Audio paths are hidden from SQL connections; the cells plugin reads them privately.
    audio = (await cells.episode_audio_urls(datasette, database.name)).get(episode_id)
    for chapter in episode["chapters"]:
        chapter["clock"] = clock(chapter["start"])
        chapter["anchor"] = f"t={cells.fragment_seconds(chapter['start'])}"
        for segment in chapter["segments"]:
            segment["clock"] = clock(segment["start"])
            segment["anchor"] = f"t={cells.fragment_seconds(segment['start'])}"
    context = {
        "episode": episode,
        "audio": audio,
        "length": cells.duration_text(episode["duration"] or 0),
        "date": (episode["published"] or "")[:10],
        "page_url": episode_page_url(datasette, episode_id),
        "episode_scope": episode_id,
        "sql": sql_links(datasette, database),
    }
    return await render(datasette, request, "archive_episode.html", context)


@hookimpl
def register_routes():
    if search_results is None:
        return []
    return [
        (HOME_ROUTE, home),
        (SEARCH_ROUTE, search_page),
        (EPISODE_ROUTE, episode_page),
    ]
