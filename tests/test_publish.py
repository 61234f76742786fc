"""`archive publish DIR`: a bundle that serves itself, read-only, wherever it is moved."""

import json
import re
import shlex
import shutil
import sqlite3
import sys
import urllib.request
from pathlib import Path

import pytest

from db.publish import shipped_files
from db.schema import open_archive
from db.search_index import rebuild_search_index
from db.serve import web_files

from .server import running_server
from .web_archive import EXAMPLE_AUDIO, KENNEDY, build_archive, talk_with_audio, timed_episode

DATASETTE_ALONE = Path(__file__).with_name("datasette_alone.py")
PLUGINS = {
    "archive_audio.py",
    "archive_cells.py",
    "archive_pages.py",
    "archive_read_only.py",
    "archive_rules.py",
    "archive_search.py",
    "archive_static.py",
    "static",
}


@pytest.fixture
def archive(tmp_path):
    """A talk with a local mp3, a speech with a public URL, and one whose file is gone."""
    sources = tmp_path / "sources"
    sources.mkdir()
    gone = talk_with_audio(sources, "gone")
    talk = talk_with_audio(sources, "talk")
    kennedy = timed_episode("kennedy", KENNEDY, audio_url="https://cdn.example.com/k.mp3")
    path = tmp_path / "my-talks.db"
    build_archive(path, talk, kennedy, gone)
    (sources / "gone.mp3").unlink()
    return path


def publish(run_cli, archive, directory, *options):
    return run_cli("publish", directory, "--db", archive, *options)


def bundle_rows(bundle, sql):
    with sqlite3.connect(bundle / "my-talks.db") as conn:
        return conn.execute(sql).fetchall()


def get_json(url):
    return json.load(urllib.request.urlopen(url, timeout=10))


def test_publish_writes_a_checked_relocatable_bundle(run_cli, archive, tmp_path):
    result = publish(run_cli, archive, tmp_path / "site")
    assert result.exit_code == 0, result.output
    bundle = tmp_path / "site"
    assert result.stdout == f"{bundle}\n"
    assert f"gone: audio file {tmp_path / 'sources' / 'gone.mp3'} not found" in result.stderr
    assert "1 of 3 episodes have no audio in the bundle and no audio_url" in result.stderr
    assert "published 3 episodes and 1 audio file" in result.stderr
    files = {path.name for path in bundle.iterdir()}
    templates = {"templates"} if shipped_files(web_files().templates) else set()
    assert files == templates | {
        "my-talks.db",
        "metadata.yml",
        "settings.json",
        "plugins",
        "templates",
        "audio",
        "inspect-data.json",
        "README.md",
    }
    assert {path.name for path in (bundle / "plugins").iterdir()} >= PLUGINS
    assert not (bundle / "plugins" / "__init__.py").exists()  # it would load as a plugin
    [(sha256,)] = bundle_rows(bundle, "select audio_sha256 from episodes where id = 'talk'")
    assert [path.name for path in (bundle / "audio").iterdir()] == [f"{sha256}.mp3"]
    assert bundle_rows(bundle, "select id, audio_path from episodes order by id") == [
        ("gone", None),
        ("kennedy", None),  # its public URL is what the bundle links to
        ("talk", f"audio/{sha256}.mp3"),
    ]
    for path in bundle.rglob("*"):  # no local path in any file of the bundle
        assert not path.is_file() or str(tmp_path).encode() not in path.read_bytes(), path
    assert bundle_rows(bundle, "pragma integrity_check") == [("ok",)]
    assert bundle_rows(bundle, "pragma journal_mode") == [("delete",)]
    inspect = json.loads((bundle / "inspect-data.json").read_text())
    assert inspect["my-talks"]["file"] == "my-talks.db"
    assert inspect["my-talks"]["tables"]["segments"]["count"] == 10
    settings = json.loads((bundle / "settings.json").read_text())
    assert settings["sql_time_limit_ms"] == 1000 and settings["allow_download"] is False


def readme_serve_command(bundle) -> list[str]:
    """The README's serve command, run where only the packages it says to install are."""
    readme = (bundle / "README.md").read_text()
    [line] = [line for line in readme.splitlines() if line.startswith("    datasette serve")]
    [install] = re.findall(r"`pip install ([^`]+)`", readme.replace("\n", " "))
    packages = [re.split(r"[<>=!~]", requirement)[0] for requirement in shlex.split(install)]
    assert packages[0] == "datasette"
    return [sys.executable, DATASETTE_ALONE, *packages, "--", *shlex.split(line)[1:]]


def test_the_readme_command_serves_the_moved_bundle_read_only(run_cli, archive, tmp_path):
    assert publish(run_cli, archive, tmp_path / "site").exit_code == 0
    moved = shutil.move(tmp_path / "site", tmp_path / "elsewhere" / "published")
    shutil.rmtree(tmp_path / "sources")  # nothing outside the bundle is needed
    with running_server(readme_serve_command(moved), cwd=moved) as base:
        databases = get_json(base + "/-/databases.json")
        assert [(d["name"], d["is_mutable"]) for d in databases] == [("my-talks", False)]
        hits = get_json(base + "/my-talks/search.json?q=unilateral+pause&_shape=array")
        assert [(hit["episode_id"], hit["start"]) for hit in hits[:2]] == [
            ("gone", 22.0),  # equal rank: by episode id
            ("talk", 22.0),
        ]
        page = urllib.request.urlopen(base + "/my-talks/search?q=unilateral+pause").read().decode()
        links = re.findall(r'class="archive-time" href="([^"#]+)#t=22"', page)
        assert len(links) == 1 and links[0].startswith("/-/audio/")  # "gone" has no audio
        request = urllib.request.Request(base + links[0], headers={"Range": "bytes=1000-1999"})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 206
            assert response.read() == EXAMPLE_AUDIO.read_bytes()[1000:2000]
        assert get_json(base + "/-/settings.json")["sql_time_limit_ms"] == 1000
        metadata = get_json(base + "/-/metadata.json")
        assert "search" in metadata["databases"]["my-talks"]["queries"]
        home = urllib.request.urlopen(base + "/").read().decode()
        assert 'id="archive-q"' in home and 'href="/-/archive-static/archive-pages.css"' in home
        assert urllib.request.urlopen(base + "/-/archive-static/archive-pages.js").status == 200
        found = get_json(base + "/-/search.json?q=unilateral+pause")
        assert found["count"] == {"moments": 4, "episodes": 2, "at_least": False}


def test_the_bundle_ranks_words_frequent_together_on_what_its_readme_installs(
    run_cli, tmp_path
):
    """Ranking several frequent words together reads their champion lists with numpy: the
    bundle's README must say to install it, or that search fails where it is served."""
    import random

    from db.store import store_episode

    from .synthetic import synthetic_episode

    path, rng = tmp_path / "chatter.db", random.Random(3)
    db = open_archive(path)
    for index in range(2):  # 3,200 segments, nearly all holding both words
        store_episode(db, synthetic_episode(index, rng, ["alpha", "beta"], 1600, 4))
    rebuild_search_index(db, frequent=1000)
    db.close()
    assert publish(run_cli, path, tmp_path / "site").exit_code == 0
    with running_server(readme_serve_command(tmp_path / "site"), cwd=tmp_path / "site") as base:
        found = get_json(base + "/-/search.json?q=alpha+beta")
    assert found["count"]["at_least"] and len(found["hits"]) == 20


def test_the_readme_deploy_command_names_the_bundles_own_files(run_cli, archive, tmp_path):
    assert publish(run_cli, archive, tmp_path / "site").exit_code == 0
    readme = (tmp_path / "site" / "README.md").read_text().replace("\\\n", " ")
    [line] = [line for line in readme.splitlines() if "datasette publish cloudrun" in line]
    args = shlex.split(line)
    assert args[:4] == ["datasette", "publish", "cloudrun", "my-talks.db"]
    options = dict(zip(args[4::2], args[5::2]))
    for path in (
        args[3],
        options["--metadata"],
        options["--plugins-dir"],
        options["--template-dir"],
    ):
        assert (tmp_path / "site" / path).exists()
    assert options["--static"] == "audio:audio" and (tmp_path / "site" / "audio").is_dir()
    installs = [value for option, value in zip(args, args[1:]) if option == "--install"]
    assert installs == ["datasette>=0.65.3,<1.0", "sqlite-utils>=4.0", "numpy"]
    settings = shlex.split(options["--extra-options"])
    assert settings[:3] == ["--setting", "sql_time_limit_ms", "1000"]


def test_publish_without_audio_keeps_only_public_urls(run_cli, archive, tmp_path):
    result = publish(run_cli, archive, tmp_path / "site", "--no-audio")
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "site" / "audio").exists()
    assert "2 of 3 episodes have no audio in the bundle and no audio_url" in result.stderr
    assert "not found" not in result.stderr  # no file was looked for
    assert bundle_rows(
        tmp_path / "site", "select count(*) from episodes where audio_path is null"
    ) == [(3,)]


def test_publish_refuses_a_directory_that_is_not_empty(run_cli, archive, tmp_path):
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "keep.txt").write_text("mine")
    result = publish(run_cli, archive, tmp_path / "site")
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "not empty" in result.stderr
    assert [path.name for path in (tmp_path / "site").iterdir()] == ["keep.txt"]
    assert not [path for path in tmp_path.iterdir() if path.name.startswith(".site-")]


def test_publish_into_an_empty_directory(run_cli, archive, tmp_path):
    (tmp_path / "site").mkdir()
    assert publish(run_cli, archive, tmp_path / "site").exit_code == 0
    assert (tmp_path / "site" / "my-talks.db").is_file()


def test_publish_refuses_an_archive_whose_index_is_out_of_step(run_cli, archive, tmp_path):
    with sqlite3.connect(archive) as conn:  # empty the segment index, keep the segments
        conn.execute("insert into segments_fts(segments_fts) values ('delete-all')")
    result = publish(run_cli, archive, tmp_path / "site")
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "segments_fts does not match" in result.stderr
    assert not (tmp_path / "site").exists()
    assert not [path for path in tmp_path.iterdir() if path.name.startswith(".site-")]


def test_publish_needs_an_archive(run_cli, tmp_path):
    result = publish(run_cli, tmp_path / "none.db", tmp_path / "site")
    assert result.exit_code == 1 and "no archive here" in result.stderr
    assert not (tmp_path / "site").exists()
