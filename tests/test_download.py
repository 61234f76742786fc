"""Enclosure downloads over real HTTP on loopback: cache, resume, size checks, errors."""

import hashlib

import pytest

from pipeline.download import (
    DownloadError,
    cached_path,
    download_enclosure,
    fetch_text,
    http_client,
)

AUDIO = bytes(range(256)) * 400  # 100 KiB that no two offsets confuse


@pytest.fixture
def client():
    with http_client() as client:
        yield client


def test_download_lands_whole_in_the_cache_and_is_reused(http_server, client, tmp_path):
    http_server.files["ep.mp3"] = AUDIO
    url = http_server.url("ep.mp3")
    path = download_enclosure(client, url, tmp_path)
    assert path == cached_path(tmp_path, url)
    assert path.name.startswith("ep-") and path.suffix == ".mp3"
    assert path.read_bytes() == AUDIO
    assert download_enclosure(client, url, tmp_path) == path
    assert http_server.requested("ep.mp3") == [None]  # the second call made no request
    assert list(tmp_path.iterdir()) == [path]


def test_a_cut_download_keeps_its_part_and_the_next_run_resumes(http_server, client, tmp_path):
    http_server.files["ep.mp3"] = AUDIO
    http_server.cut_short["ep.mp3"] = 30_000
    url = http_server.url("ep.mp3")
    with pytest.raises(DownloadError) as error:
        download_enclosure(client, url, tmp_path)
    message = str(error.value)
    assert message.startswith(f"{url}: download failed (")
    assert message.endswith("30000 bytes kept, run again to resume")
    assert not cached_path(tmp_path, url).exists()

    del http_server.cut_short["ep.mp3"]
    seen = []
    path = download_enclosure(client, url, tmp_path, on_progress=lambda d, t: seen.append((d, t)))
    assert http_server.requested("ep.mp3") == [None, "bytes=30000-"]
    assert hashlib.sha256(path.read_bytes()).digest() == hashlib.sha256(AUDIO).digest()
    assert seen[0][0] > 30_000 and seen[-1] == (len(AUDIO), len(AUDIO))


def test_a_server_that_ignores_range_sends_the_whole_file_again(http_server, client, tmp_path):
    http_server.files["ep.mp3"] = AUDIO
    url = http_server.url("ep.mp3")
    partial = cached_path(tmp_path, url).with_suffix(".mp3.part")
    partial.write_bytes(b"stale bytes from an older file")
    http_server.ignore_range.add("ep.mp3")
    path = download_enclosure(client, url, tmp_path)
    assert http_server.requested("ep.mp3") == ["bytes=30-"]
    assert path.read_bytes() == AUDIO and not partial.exists()


def test_a_part_that_is_already_whole_is_finished_without_a_body(http_server, client, tmp_path):
    http_server.files["ep.mp3"] = AUDIO
    url = http_server.url("ep.mp3")
    cached_path(tmp_path, url).with_suffix(".mp3.part").write_bytes(AUDIO)
    path = download_enclosure(client, url, tmp_path)
    assert http_server.requested("ep.mp3") == [f"bytes={len(AUDIO)}-"]  # answered 416
    assert path.read_bytes() == AUDIO


def test_a_part_longer_than_the_file_starts_again(http_server, client, tmp_path):
    http_server.files["ep.mp3"] = AUDIO
    url = http_server.url("ep.mp3")
    cached_path(tmp_path, url).with_suffix(".mp3.part").write_bytes(AUDIO + b"junk")
    path = download_enclosure(client, url, tmp_path)
    assert http_server.requested("ep.mp3") == [f"bytes={len(AUDIO) + 4}-", None]
    assert path.read_bytes() == AUDIO


def test_missing_enclosure_is_one_line(http_server, client, tmp_path):
    url = http_server.url("gone.mp3")
    with pytest.raises(DownloadError) as error:
        download_enclosure(client, url, tmp_path)
    assert str(error.value) == f"{url}: HTTP 404 Not Found"
    assert list(tmp_path.iterdir()) == []


def test_a_refused_connection_is_one_line(client, tmp_path):
    with pytest.raises(DownloadError) as error:
        download_enclosure(client, "http://127.0.0.1:9/ep.mp3", tmp_path)
    assert str(error.value).startswith("http://127.0.0.1:9/ep.mp3: download failed (")
    assert "\n" not in str(error.value)


def test_the_feeds_length_is_checked_only_when_the_server_gives_none(http_server, client, tmp_path):
    # A feed's stated length is often approximate; the server's is checked strictly.
    http_server.files["ep.mp3"] = AUDIO
    warnings = []
    url = http_server.url("ep.mp3")
    download_enclosure(client, url, tmp_path, stated_length=1, warn=warnings.append)
    assert warnings == []

    http_server.files["unsized.mp3"] = AUDIO
    http_server.no_length.add("unsized.mp3")
    url = http_server.url("unsized.mp3")
    path = download_enclosure(client, url, tmp_path, stated_length=5000, warn=warnings.append)
    assert path.read_bytes() == AUDIO
    assert warnings == [f"{url}: downloaded {len(AUDIO)} bytes; the feed says 5000"]


def test_a_web_page_is_not_kept_as_audio(http_server, client, tmp_path):
    http_server.files["episode.php"] = b"<html><body>Please log in</body></html>"
    url = http_server.url("episode.php")
    with pytest.raises(DownloadError) as error:
        download_enclosure(client, url, tmp_path)
    assert str(error.value) == f"{url}: the server sent a web page, not audio"
    assert list(tmp_path.iterdir()) == []


def test_only_http_urls_are_fetched(client, tmp_path):
    with pytest.raises(DownloadError, match="not an http"):
        download_enclosure(client, "file:///etc/passwd", tmp_path)
    with pytest.raises(DownloadError, match="not an http"):
        fetch_text(client, "ftp://example.com/chapters.json")


def test_fetch_text_decodes_utf8_with_a_bom(http_server, client):
    http_server.files["c.json"] = '\ufeff{"title": "Café"}'.encode("utf-8")
    assert fetch_text(client, http_server.url("c.json")) == '{"title": "Café"}'


def test_cache_names_stay_apart_and_readable(tmp_path):
    first = cached_path(tmp_path, "https://a.example/show/audio.mp3?ep=1")
    second = cached_path(tmp_path, "https://a.example/show/audio.mp3?ep=2")
    assert first != second and first.parent == second.parent == tmp_path
    assert first.name.startswith("audio-") and first.suffix == ".mp3"
    odd = cached_path(tmp_path, "https://a.example/listen/%E2%9C%93%20ep/")
    assert odd.name.startswith("ep-") and odd.suffix == ""
    assert cached_path(tmp_path, "https://a.example/").name.startswith("audio-")
