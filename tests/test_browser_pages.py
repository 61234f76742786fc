"""The archive's own pages in a real browser: search from home, play, follow along, 375 px,
keyboard only, and axe-core's accessibility check.

Drives Debian's Chromium (as test_browser.py does) against `archive serve`. Screenshots at
1280 and 375 px wide, and axe's counts (axe.json), land in test-artifacts/.
"""

import json

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import sync_playwright

from .conftest import ARTIFACTS
from .server import archive_server
from .test_browser import CHROMIUM, CHROMIUM_ARGS
from .web_archive import KENNEDY, build_archive, talk_with_audio, timed_episode

PAGES = {"home": "/", "results": "/-/search?q=unilateral+pause", "episode": "/-/episode/talk"}
SERIOUS = {"serious", "critical"}
PLAYING_FROM = """(seconds) => {
  const player = document.getElementById("archive-player");
  return player !== null && !player.paused && player.currentTime >= seconds;
}"""
CURRENT_STARTS = """() => Array.from(document.querySelectorAll('[aria-current="true"]'))
  .map((element) => element.dataset.start)"""


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    ARTIFACTS.mkdir(exist_ok=True)
    folder = tmp_path_factory.mktemp("pages")
    talk = talk_with_audio(folder)
    talk.show, talk.published = "Talks about archives", "2024-03-01"
    kennedy = timed_episode("kennedy", KENNEDY, audio_url="https://cdn.example.com/k.mp3")
    kennedy.show, kennedy.published = "Speeches", "1961-01-20"
    again = tuple((2.0 + 2 * i, f"Sentence {i} is said again.") for i in range(25))
    build_archive(folder / "talks.db", talk, kennedy, timed_episode("again", again))
    with archive_server(folder / "talks.db") as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def new_page(browser, width):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.dialogs = dialogs
    return page


@pytest.fixture
def page(browser):
    page = new_page(browser, 1280)
    yield page
    assert page.dialogs == []  # no transcript or title markup ever ran
    page.context.close()


def test_search_from_home_groups_the_moments_and_plays_one(served, page):
    page.goto(served + "/")
    assert page.evaluate("document.activeElement.id") == "archive-q"  # focused on load
    page.screenshot(path=ARTIFACTS / "home-1280.png", full_page=True)
    page.keyboard.type("unilateral pause")
    page.keyboard.press("Enter")
    page.locator(".archive-group").first.wait_for()
    assert page.locator(".archive-count").inner_text() == "2 moments in 1 episode"
    group = page.locator(".archive-group")
    assert group.count() == 1
    assert group.locator("h3").inner_text() == "Title talk"
    assert group.locator(".archive-meta").inner_text() == "Talks about archives · 2024-03-01"
    assert group.locator(".archive-chapter").all_inner_texts() == ["Middle", "End"]
    assert group.locator(".archive-hit").first.locator("mark").all_inner_texts() == [
        "unilateral",
        "pause",
        "unilateral",
        "pause",
    ]
    assert "<script>alert('x')</script>" in group.locator(".archive-snippet").nth(1).inner_text()
    page.screenshot(path=ARTIFACTS / "results-1280.png", full_page=True)

    group.locator(".archive-play").first.click()
    page.wait_for_function(PLAYING_FROM, arg=22, timeout=20_000)
    assert page.evaluate("document.getElementById('archive-player').src").endswith(".mp3")


def test_more_moments_are_appended_without_reloading(served, page):
    page.goto(served + "/-/search?q=again")
    page.evaluate("window.notReloaded = true")
    assert page.locator(".archive-hit").count() == 20
    page.locator("a.archive-more-link").click()
    page.wait_for_function("document.querySelectorAll('.archive-hit').length === 25")
    assert page.evaluate("window.notReloaded") is True
    assert page.locator(".archive-group").count() == 1  # page 2 joined the same episode
    assert page.locator("a.archive-more-link").count() == 0
    assert page.evaluate("document.activeElement.closest('.archive-hit') !== null")


def test_episode_page_opens_at_the_moment_and_follows_the_audio(served, page):
    page.goto(served + "/-/episode/talk#t=42")
    audio = page.locator("#archive-episode-audio")
    page.wait_for_function("document.getElementById('archive-episode-audio').currentTime >= 41.9")
    assert page.evaluate(CURRENT_STARTS) == ["42.0"]

    page.locator(".archive-toc a", has_text="Middle").click()  # 20 s: the 2 s sentence is current
    page.wait_for_function(
        "() => { const a = document.getElementById('archive-episode-audio');"
        " return !a.paused && a.currentTime >= 22.3; }",
        timeout=20_000,
    )
    page.wait_for_function(f"({CURRENT_STARTS})().join() === '22.0'")
    assert page.locator(".archive-current").count() == 1
    assert page.locator(".archive-current-chapter").inner_text().endswith("Middle")
    page.screenshot(path=ARTIFACTS / "episode-1280.png", full_page=True)

    page.locator(".archive-segment .archive-words", has_text="Opening words").click()
    page.wait_for_function(f"({CURRENT_STARTS})().join() === '2.0'")
    assert 2 <= audio.evaluate("a => a.currentTime") < 10

    audio.evaluate("a => a.pause()")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.locator("#archive-copy-link").click()
    status = page.locator("#archive-copy-status")
    page.wait_for_function("document.getElementById('archive-copy-status').textContent !== ''")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert status.inner_text() == "Copied: " + copied
    assert copied.startswith(served + "/-/episode/talk#t=")
    assert abs(float(copied.split("#t=")[1]) - audio.evaluate("a => a.currentTime")) < 0.2


@pytest.mark.parametrize("name", sorted(PAGES))
def test_pages_fit_375_px_without_scrolling_sideways(served, browser, name):
    page = new_page(browser, 375)
    page.goto(served + PAGES[name])
    page.wait_for_load_state("networkidle")
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    page.screenshot(path=ARTIFACTS / f"{name}-375.png", full_page=True)
    page.context.close()
    assert widths[0] <= widths[1] == 375


def test_everything_works_by_keyboard(served, page):
    page.goto(served + "/-/search?q=unilateral+pause")
    page.locator("h1").click()  # focus leaves the box
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "archive-q"
    focused_play = "document.activeElement.classList.contains('archive-play')"
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate(focused_play):
            break
    assert page.evaluate(focused_play)
    page.keyboard.press("Enter")
    page.wait_for_function(PLAYING_FROM, arg=22, timeout=20_000)

    page.goto(served + "/-/episode/talk")
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.closest('.archive-segment') !== null"):
            break
    assert page.evaluate("document.activeElement.dataset.start") == "2.0"
    page.keyboard.press("Enter")
    page.wait_for_function(
        "() => !document.getElementById('archive-episode-audio').paused", timeout=20_000
    )
    assert page.evaluate(CURRENT_STARTS) == ["2.0"]


def test_axe_finds_no_serious_or_critical_violations(served, page):
    counts = {}
    for name, path in PAGES.items():
        page.goto(served + path)
        page.wait_for_load_state("networkidle")
        violations = Axe().run(page).response["violations"]
        counts[name] = {
            violation["id"]: {"impact": violation["impact"], "nodes": len(violation["nodes"])}
            for violation in violations
        }
    (ARTIFACTS / "axe.json").write_text(json.dumps(counts, indent=2))
    serious = {
        name: [rule for rule, found in rules.items() if found["impact"] in SERIOUS]
        for name, rules in counts.items()
    }
    assert serious == {name: [] for name in PAGES}
