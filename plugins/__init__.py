"""The archive's Datasette plugins, templates and static files.

Each ``archive_*.py`` module is a plugin, registered through the ``datasette`` entry point
in pyproject.toml; ``templates/`` and ``static/`` ship beside them as package data, and so
does ``metadata.yml``. A published bundle carries copies of the modules, which then load
through Datasette's ``--plugins-dir``.
"""
