"""A real browser on a served archive: type a phrase, see the right chapter first, hear it.

Drives Debian's Chromium (installed by `make system-deps`), never a downloaded browser.
Screenshots land in test-artifacts/.
"""

import pytest
from playwright.sync_api import sync_playwright

from .server import archive_server
from .web_archive import KENNEDY, build_archive, talk_with_audio, timed_episode

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--mute-audio",
]
PLAYER_AT_THE_MOMENT = """() => {
  const player = document.getElementById("archive-player");
  return player !== null && !player.paused && player.currentTime >= 22;
}"""


@pytest.fixture
def served(tmp_path):
    path = tmp_path / "talks.db"
    kennedy = timed_episode("kennedy", KENNEDY, audio_url="https://cdn.example.com/k.mp3")
    build_archive(path, kennedy, talk_with_audio(tmp_path))
    with archive_server(path) as base:
        yield base


@pytest.fixture
def page():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        yield page
        browser.close()


def test_search_in_a_browser_finds_the_moment_and_plays_it(served, page, artifacts_dir):
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(served + "/talks/search")
    page.locator("input[name=q]").press_sequentially("unilateral pause")
    page.keyboard.press("Enter")
    rows = page.locator("table.rows-and-columns tbody tr")
    rows.first.wait_for()
    page.screenshot(path=artifacts_dir / "search.png", full_page=True)

    first = rows.first
    assert first.locator("td.col-chapter_title").inner_text() == "Middle"
    assert first.locator("td.col-episode_title").inner_text() == "Title talk"
    marks = first.locator("td.col-snippet mark").all_inner_texts()
    assert marks == ["unilateral", "pause", "unilateral", "pause"]
    link = first.locator("td.col-start a")
    assert link.inner_text() == "[00:22]"
    href = link.get_attribute("href")
    assert href.startswith("/-/audio/") and href.endswith(".mp3#t=22")
    assert "<script>alert('x')</script>" in rows.nth(1).locator("td.col-snippet").inner_text()

    link.click()
    page.wait_for_function(PLAYER_AT_THE_MOMENT, timeout=20_000)
    player_src = page.evaluate("document.getElementById('archive-player').src")
    assert player_src == served + href.split("#")[0]
    page.screenshot(path=artifacts_dir / "search-playing.png", full_page=True)
    assert dialogs == []  # the transcript's <script> never ran
