"""Show notes as real podcast pages write them: Markdown, captions pasted in, UTF-16."""

import pytest

from pipeline.align import plan_chapters
from pipeline.outline import OutlineError, parse_notes, read_notes

MARKDOWN_NOTES = """# Episode 12: Local-first

Thanks for listening! Links are below.

## Chapters

**00:00** Intro
**02:15** [Sync engines](https://example.com/sync) explained
* [05:30](#t=05:30) CRDTs, *briefly*
* [00:08:10](https://example.com/ep12#t=490) __Questions__

## Links

- Our sponsor, from 10:00 to 12:00 every Friday
"""


def titled(outline):
    return [(entry.start, entry.title) for entry in outline.entries]


def test_markdown_bold_and_linked_times_are_chapters():
    outline = parse_notes(MARKDOWN_NOTES)
    assert titled(outline) == [
        (0, "Intro"),
        (135, "Sync engines explained"),
        (330, "CRDTs, briefly"),
        (490, "Questions"),
    ]


def test_time_alone_on_its_line_takes_the_title_below():
    text = "Timestamps:\n\n- 00:00\n  Welcome\n- 03:10\n  The news\n\n- 07:45\n\n  Mailbag\n"
    outline = parse_notes(text)
    assert titled(outline) == [(0, "Welcome"), (190, "The news"), (465, "Mailbag")]


def test_caption_cues_in_a_page_are_not_chapters():
    text = (
        "Outline:\n(00:00) Start\n(01:00) Middle\n\n"
        "Transcript\n00:00:07.000 --> 00:00:08.000\nhello there\n"
        "00:00:08.000 --> 00:00:09.500\n-> 00:00:09 and more\n"
    )
    assert titled(parse_notes(text)) == [(0, "Start"), (60, "Middle")]


def test_caption_cues_alone_give_no_chapters():
    text = "00:00:07.000 --> 00:00:08.000\nhello there\n\n00:00:08.000 --> 00:00:09.500\nbye\n"
    assert parse_notes(text).entries == []


@pytest.mark.parametrize(
    "after", ["\n\nSponsors\n(10:00) Ad read\n", "\n## Sponsors\n(10:00) Ad read\n"]
)
def test_timestamps_block_ends_at_a_blank_line_or_heading(after):
    text = "Timestamps:\n0:00 Intro\n4:00 Main topic" + after
    assert titled(parse_notes(text)) == [(0, "Intro"), (240, "Main topic")]


def test_timestamps_block_keeps_blank_lines_between_its_own_entries():
    text = "Timestamps:\n\n0:00 Intro\n\n4:00 Main topic\n\n8:00 Outro\n\nThanks!\n(9:00) not one\n"
    assert [e.title for e in parse_notes(text).entries] == ["Intro", "Main topic", "Outro"]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-8-sig"])
def test_notes_with_a_byte_order_mark(tmp_path, encoding):
    path = tmp_path / "notes.txt"
    text = "Chapters:\n(00:00) Café intro\n(01:30) Zürich\n"
    path.write_bytes((text if encoding != "utf-16-be" else "\ufeff" + text).encode(encoding))
    outline = read_notes(path)
    assert titled(outline) == [(0, "Café intro"), (90, "Zürich")]
    assert outline.warnings == []


def test_control_characters_in_notes_do_not_reach_titles():
    outline = parse_notes("(00:00) Intro\x00\x1b[31m red\n(00:10) Next\x07\n")
    assert [e.title for e in outline.entries] == ["Intro[31m red", "Next"]


def test_five_thousand_chapters_out_of_order_warn_in_a_few_lines():
    lines = [f"({m // 60:02d}:{m % 60:02d}) Chapter at minute {m}" for m in range(5000, 0, -1)]
    outline = parse_notes("\n".join(lines))
    chapters, warnings = plan_chapters(outline, 400_000.0, "Long")
    assert len(chapters) == 5001
    assert len(warnings) <= 4
    assert any("4,996 more chapters out of time order" in warning for warning in warnings)


def test_too_many_chapters_is_one_clear_error(tmp_path):
    path = tmp_path / "notes.txt"
    lines = (f"({m // 3600}:{m // 60 % 60:02d}:{m % 60:02d}) Part {m}" for m in range(20_001))
    path.write_text("\n".join(lines))
    with pytest.raises(OutlineError, match=r"notes.txt: 20,001 chapters; at most 10,000"):
        read_notes(path)


def test_huge_notes_file_is_one_clear_error(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_bytes(b"(00:00) x\n" * 1_200_000)
    with pytest.raises(OutlineError, match=r"notes.txt: 11.4 MiB; show notes over 10 MiB"):
        read_notes(path)
