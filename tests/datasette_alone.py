"""Run Datasette as on a machine where only the named distributions are installed.

    python tests/datasette_alone.py datasette sqlite-utils -- serve . --port 8001

A published bundle's README says which packages to install; this runs Datasette from the
project's venv with everything else hidden: the distributions named, and what they
depend on, stay importable and visible to entry-point loading; every other installed
distribution (faster-whisper, numpy, this project's own editable install) is not. The
standard library and the bundle's own files remain, as they would there.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.metadata as metadata
import re
import sys
import sysconfig
from pathlib import Path


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def with_dependencies(names: list[str]) -> set[str]:
    """The distributions named and, recursively, their unconditional requirements."""
    needed: set[str] = set()
    pending = [normalized(name) for name in names]
    while pending:
        name = pending.pop()
        if name in needed:
            continue
        needed.add(name)
        try:
            requirements = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        for requirement in requirements:
            if "extra ==" not in requirement:
                pending.append(normalized(re.split(r"[\s;<>=!~\[(]", requirement, 1)[0]))
    return needed


class HiddenModules(importlib.abc.MetaPathFinder):
    """Top-level modules that only hidden distributions provide cannot be imported from
    where those are installed; a module of the same name elsewhere (a bundle's own copy)
    still can."""

    def __init__(self, hidden: set[str]):
        self.hidden = hidden
        paths = sysconfig.get_paths()
        self.installed = {str(Path(paths[key]).resolve()) for key in ("purelib", "platlib")}

    def find_spec(self, name, path=None, target=None):
        if path is not None or name not in self.hidden:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name)
        where = spec and (spec.origin or next(iter(spec.submodule_search_locations or []), ""))
        if not where or any(str(Path(where).resolve()).startswith(i) for i in self.installed):
            raise ModuleNotFoundError(f"No module named {name!r} (not installed here)")
        return spec


def hide_all_but(names: list[str]) -> None:
    needed = with_dependencies(names)
    provided = metadata.packages_distributions()
    hidden = {
        module
        for module, distributions in provided.items()
        if not any(normalized(d) in needed for d in distributions)
    } - set(sys.stdlib_module_names)
    sys.meta_path.insert(0, HiddenModules(hidden))
    # This project's editable install imports through a finder of its own.
    sys.meta_path[:] = [f for f in sys.meta_path if "__editable__" not in type(f).__module__]
    everything = metadata.distributions

    def only_needed(**kwargs):
        return (d for d in everything(**kwargs) if normalized(d.metadata["Name"]) in needed)

    metadata.distributions = only_needed  # what Datasette's plugin loading walks


def main() -> None:
    split = sys.argv.index("--")
    hide_all_but(sys.argv[1:split])
    sys.argv = ["datasette", *sys.argv[split + 1 :]]
    from datasette.cli import cli

    cli()


if __name__ == "__main__":
    main()
