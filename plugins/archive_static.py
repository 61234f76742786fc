"""``/-/archive-static/<file>``: the JavaScript and CSS in plugins/static/.

One URL wherever the plugins run: from a checkout, an installed wheel, or a published
bundle (whose plugins folder carries static/ beside this file). Pages link them with
archive_rules.static_url(datasette, name).
"""

from __future__ import annotations

from pathlib import Path

from datasette import hookimpl
from datasette.utils.asgi import asgi_static

try:
    from plugins import archive_rules as rules
except ImportError:  # a published bundle on Datasette alone: the rules file is beside this one
    import runpy
    import types

    rules_file = Path(__file__).with_name("archive_rules.py")
    rules = types.SimpleNamespace(**runpy.run_path(str(rules_file)))


@hookimpl
def register_routes():
    # static/ beside this file: so it is in a checkout, a wheel and a bundle alike (a
    # bundle's copy of archive_rules.py for the search code lives elsewhere).
    return [(rules.STATIC_ROUTE, asgi_static(Path(__file__).resolve().with_name("static")))]
