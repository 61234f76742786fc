"""A built wheel, installed outside the checkout, serves, searches and publishes.

The wheel is built from a copy of the project's files and installed (``--no-deps``) into a
fresh venv in tmp_path. Its dependencies come from the project's venv through a path
entry, so nothing is downloaded; the project's own packages come only from the wheel
(the project venv's editable finder is not loaded there, and the test checks where each
package was imported from).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import urllib.request
import zipfile
from pathlib import Path

import pytest

from db.publish import shipped_files
from db.serve import web_files

from .conftest import PROJECT_ROOT
from .server import running_server
from .web_archive import KENNEDY, build_archive, talk_with_audio, timed_episode

SOURCES = ("pyproject.toml", "README.md", "metadata.yml", "pipeline", "db", "plugins")
PYPROJECT = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())


def test_every_plugin_module_has_an_entry_point():
    entry_points = PYPROJECT["project"]["entry-points"]["datasette"]
    modules = {
        path.stem
        for path in (PROJECT_ROOT / "plugins").glob("*.py")
        if "@hookimpl" in path.read_text()
    }
    assert len(modules) >= 5
    assert {f"plugins.{name}" for name in modules} <= set(entry_points.values())
    assert entry_points["transcript_archive"] == "plugins"  # so Datasette finds templates/


def test_the_packaged_metadata_is_the_top_level_file():
    packaged = PROJECT_ROOT / "plugins" / "metadata.yml"
    assert packaged.is_symlink() and packaged.resolve() == (PROJECT_ROOT / "metadata.yml")
    assert web_files().metadata.read_bytes() == (PROJECT_ROOT / "metadata.yml").read_bytes()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    source = tmp_path_factory.mktemp("source")
    for name in SOURCES:
        path = PROJECT_ROOT / name
        if path.is_dir():
            skip = shutil.ignore_patterns("__pycache__")
            shutil.copytree(path, source / name, symlinks=True, ignore=skip)
        else:
            shutil.copy2(path, source / name)
    out = tmp_path_factory.mktemp("wheel")
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]
    build = pip + ["wheel", "--no-deps", "--no-build-isolation", "-w", str(out), str(source)]
    subprocess.run(build, check=True, cwd=out)
    [built] = out.glob("transcript_archive-*.whl")
    return built


def test_the_wheel_carries_the_web_files(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        packaged = archive.read("plugins/metadata.yml")
        [entry_points] = [name for name in names if name.endswith("entry_points.txt")]
        entry_text = archive.read(entry_points).decode()
    assert packaged == (PROJECT_ROOT / "metadata.yml").read_bytes()
    web = web_files()
    expected = [web.plugins / "__init__.py", *sorted(web.plugins.glob("archive_*.py"))]
    static, templates = shipped_files(web.static), shipped_files(web.templates)
    assert {".js", ".css"} <= {path.suffix for path in static}
    assert "archive_search.html" in {path.name for path in templates}
    expected += static + templates
    for path in expected:
        assert path.relative_to(PROJECT_ROOT).as_posix() in names
    assert "[datasette]" in entry_text and "archive_audio = plugins.archive_audio" in entry_text


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """A fresh venv holding the wheel, outside the checkout; returns its bin folder."""
    venv = tmp_path_factory.mktemp("installed") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    bin_dir = venv / "bin"
    site = Path(
        subprocess.check_output(
            [bin_dir / "python", "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            text=True,
        ).strip()
    )
    # The dependencies: the project venv's site-packages as a plain path entry, so its
    # .pth files (the editable install of this checkout among them) are not run.
    (site / "project-dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]
    install = pip + ["--python", str(bin_dir / "python"), "install", "--no-deps", str(wheel)]
    subprocess.run(install, check=True)
    return bin_dir


def run_installed(bin_dir: Path, *args, cwd) -> subprocess.CompletedProcess:
    return subprocess.run(
        [bin_dir / "archive", *map(str, args)], cwd=cwd, capture_output=True, text=True
    )


def test_the_installed_wheel_imports_nothing_from_the_checkout(installed, tmp_path):
    code = "import db, pipeline, plugins; print(db.__file__, pipeline.__file__, plugins.__file__)"
    where = subprocess.check_output([installed / "python", "-c", code], cwd=tmp_path, text=True)
    venv = str(installed.parent)
    assert all(path.startswith(venv) for path in where.split()), where


def test_the_installed_wheel_serves_searches_and_publishes(installed, tmp_path):
    archive = tmp_path / "talks.db"
    build_archive(
        archive,
        talk_with_audio(tmp_path),
        timed_episode("kennedy", KENNEDY, audio_url="https://cdn.example.com/k.mp3"),
    )
    found = run_installed(
        installed, "search", "unilateral pause", "--json", "--db", archive, cwd=tmp_path
    )
    assert found.returncode == 0, found.stderr
    assert [hit["start"] for hit in json.loads(found.stdout)] == [22.0, 42.0]

    command = [installed / "archive", "serve", "--db", archive]
    with running_server(command, cwd=tmp_path) as base:
        plugins = json.load(urllib.request.urlopen(base + "/-/plugins.json", timeout=10))
        hooks = {hook for plugin in plugins for hook in plugin["hooks"]}
        assert {"register_routes", "render_cell", "prepare_connection", "asgi_wrapper"} <= hooks
        assert {plugin["name"] for plugin in plugins} == {"transcript-archive"}
        page = urllib.request.urlopen(base + "/talks/search?q=unilateral+pause").read().decode()
        assert re.search(r'class="archive-time" href="/-/audio/[0-9a-f]{64}\.mp3#t=22"', page)
        [script] = re.findall(r'src="(/-/archive-static/[^"]+\.js)"', page)
        served = urllib.request.urlopen(base + script, timeout=10).read()
        assert served == (web_files().static / "archive-player.js").read_bytes()

    published = run_installed(
        installed, "publish", tmp_path / "site", "--db", archive, cwd=tmp_path
    )
    assert published.returncode == 0, published.stderr
    assert (tmp_path / "site" / "plugins" / "archive_rules.py").is_file()
    assert (tmp_path / "site" / "metadata.yml").read_text().startswith("title: Spoken archive")
