import pytest

from pipeline.align import plan_chapters
from pipeline.outline import no_outline, parse_notes, parse_timed_line, read_notes

from .conftest import SEED_PAGE


def test_seed_page_gives_each_chapter_once():
    outline = read_notes(SEED_PAGE)
    assert outline.source == "notes"
    assert len(outline.entries) == 35
    first, last = outline.entries[0], outline.entries[-1]
    assert (first.start, first.title) == (332.0, "How it started: the original goals of RSPs")
    assert (last.start, last.title) == (
        3726.0,
        "What is the point of making commitments if you can revise them anytime?",
    )
    titles = [entry.title for entry in outline.entries]
    assert len(set(titles)) == 35
    assert "Q&A" in titles


def test_seed_page_plans_36_chapters_with_an_opening():
    outline = read_notes(SEED_PAGE)
    chapters, warnings = plan_chapters(outline, duration=3800.0, opening_title="RSP v3: my takes")
    assert warnings == []
    assert len(chapters) == 36
    opening = chapters[0]
    assert (opening.title, opening.start, opening.end, opening.stated_start) == (
        "RSP v3: my takes",
        0.0,
        332.0,
        None,
    )
    assert chapters[1].start == chapters[1].stated_start == 332.0
    assert chapters[-1].start == 3726.0 and chapters[-1].end == 3800.0
    assert [c.position for c in chapters] == list(range(36))
    assert all(a.end == b.start for a, b in zip(chapters, chapters[1:]))


def test_seed_titles_are_verbatim():
    text = SEED_PAGE.read_text(encoding="utf-8")
    outline = parse_notes(text)
    for entry in outline.entries:
        assert f") {entry.title}\n" in text or text.endswith(f") {entry.title}")


@pytest.mark.parametrize(
    "line, start, title",
    [
        ("(05:32) How it started", 332, "How it started"),
        ("(01:02:06) What is the point", 3726, "What is the point"),
        ("05:32 No brackets", 332, "No brackets"),
        ("5:32 Short minutes", 332, "Short minutes"),
        ("1:02:06 Short hours", 3726, "Short hours"),
        ("[00:12:30] Square brackets", 750, "Square brackets"),
        ("0:00 Intro", 0, "Intro"),
        ("1:02:03 - Dash separated", 3723, "Dash separated"),
        ("- 12:30 Bulleted", 750, "Bulleted"),
        ("Title first (12:30)", 750, "Title first"),
        ("(00:07.5) Fractional", 7.5, "Fractional"),
    ],
)
def test_timestamp_styles(line, start, title):
    entry = parse_timed_line(line, 1)
    assert entry is not None
    assert (entry.start, entry.title) == (start, title)


@pytest.mark.parametrize("line", ["", "Just prose here", "(99:99) bad clock", "Meet at 10"])
def test_lines_that_are_not_chapters(line):
    assert parse_timed_line(line) is None


def test_outline_block_excludes_the_rest_of_the_page():
    text = (
        "Intro text at 10:30 tonight\n---\nOutline:\n(00:10) One\n(00:20) Two\n"
        "---\n(09:00) Credits\n"
    )
    outline = parse_notes(text)
    assert [(e.start, e.title) for e in outline.entries] == [(10, "One"), (20, "Two")]


def test_page_without_outline_header_dedupes_repeats():
    text = "0:00 Intro\n1:00 Middle\n2:00 End\n\n0:00 Intro\n1:00 Middle\n2:00 End\n"
    assert [e.title for e in parse_notes(text).entries] == ["Intro", "Middle", "End"]


def test_no_notes_gives_one_chapter_spanning_the_episode():
    chapters, warnings = plan_chapters(no_outline(), 53.2, "Sonnet")
    assert [(c.title, c.start, c.end, c.stated_start) for c in chapters] == [
        ("Sonnet", 0.0, 53.2, None)
    ]
    assert warnings == []


def test_first_chapter_at_zero_needs_no_opening():
    chapters, _ = plan_chapters(parse_notes("(00:00) Start\n(00:30) Next"), 60, "Episode")
    assert [c.title for c in chapters] == ["Start", "Next"]


def test_backwards_times_are_sorted_with_a_warning():
    outline = parse_notes("(00:00) A\n(00:40) C\n(00:20) B\n")
    chapters, warnings = plan_chapters(outline, 60, "Episode")
    assert [c.title for c in chapters] == ["A", "B", "C"]
    assert len(warnings) == 1
    assert "line 3" in warnings[0] and "'B'" in warnings[0] and "sorted" in warnings[0]


def test_times_past_the_end_are_kept_with_a_warning():
    outline = parse_notes("(00:00) A\n(00:30) B\n(02:00) Too late\n")
    chapters, warnings = plan_chapters(outline, 60, "Episode")
    assert [(c.title, c.start, c.end) for c in chapters] == [
        ("A", 0, 30),
        ("B", 30, 60),
        ("Too late", 60, 60),
    ]
    assert chapters[-1].stated_start == 120
    assert (
        len(warnings) == 1 and "Too late" in warnings[0] and "after the audio ends" in warnings[0]
    )


def test_duplicate_times_are_merged_with_a_warning():
    chapters, warnings = plan_chapters(parse_notes("(00:00) A\n(00:30) B\n(00:30) C\n"), 60, "E")
    assert [c.title for c in chapters] == ["A", "B / C"]
    assert len(warnings) == 1 and "merged" in warnings[0]


def test_empty_title_is_named_with_a_warning():
    chapters, warnings = plan_chapters(parse_notes("(00:00) A\n(00:30)\n"), 60, "E")
    assert chapters[1].title == "Chapter 2"
    assert len(warnings) == 1 and "empty title" in warnings[0]
