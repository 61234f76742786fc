"""Heading alignment on hand-made transcripts (fast); test_narrated.py runs it on speech."""

import pytest

from pipeline.align import describe_alignment, plan_chapters
from pipeline.headings import align_timed_chapters, find_heading, place_headings, word_tokens
from pipeline.outline import parse_notes
from pipeline.records import AudioInfo, Transcript

from .conftest import aligned, make_segment

BODY = "and then we talked about many other things for quite a while longer."


def transcript_with_headings(headings_at: dict[str, float], duration: float = 400.0):
    """Body chatter every few seconds, and each heading spoken at its time."""
    segments = []
    spoken = sorted(headings_at.items(), key=lambda item: item[1])
    clock = 0.0
    for title, start in spoken + [("", duration)]:
        while clock + 6 < start:
            segments.append(make_segment(BODY, clock, 0.35))
            clock += 6
        if title:
            segments.append(make_segment(title + ".", start, 0.35))
            clock = start + 3
    return sorted(segments, key=lambda s: s.start)


HEADINGS = [
    "How the archive began",
    "Measuring what listeners need",
    "A detour through railway timetables",
    "Why advertisements break chapter times",
]
STATED = [20.0, 80.0, 140.0, 200.0]


def timed_notes(stated=STATED):
    return "\n".join(
        f"({int(t) // 60:02d}:{int(t) % 60:02d}) {h}" for h, t in zip(HEADINGS, stated)
    )


def align(notes, spoken, duration=400.0):
    segments = transcript_with_headings(spoken, duration)
    audio = AudioInfo("x.wav", "0" * 64, duration, duration)
    episode, notes_out = aligned(
        "x", "Episode", audio, Transcript(segments, "en", duration, "fake"), parse_notes(notes)
    )
    return episode, notes_out


def test_fuzzy_match_survives_asr_slips():
    tokens = word_tokens(
        [make_segment("so why aren't we're titling to break chapter times then", 50)]
    )
    [match] = find_heading(tokens, "Why advertisements break chapter times", 0, 100)
    assert match.start == pytest.approx(50.4) and 0.6 < match.score < 1.0


def test_unrelated_speech_is_not_a_heading():
    tokens = word_tokens([make_segment(BODY, 0), make_segment(BODY, 6)])
    for heading in HEADINGS:
        assert find_heading(tokens, heading, 0, 100) == []


def test_pre_roll_moves_every_chapter_by_the_same_offset():
    episode, notes = align(timed_notes(), {h: t + 45 for h, t in zip(HEADINGS, STATED)})
    assert episode.outline_offset == pytest.approx(45.0)
    headed = episode.chapters[1:]
    assert [c.start for c in headed] == pytest.approx([t + 45 for t in STATED])
    assert [c.stated_start for c in headed] == STATED
    assert all(c.confidence > 0.9 for c in headed)
    assert describe_alignment(episode) == (
        "chapters moved to their spoken headings: 4 of 4 heard, outline offset +45.0 s"
    )
    assert notes == []


def test_mid_roll_is_followed_after_it_happens():
    spoken = {h: t + (60 if i >= 2 else 0) for i, (h, t) in enumerate(zip(HEADINGS, STATED))}
    episode, _ = align(timed_notes(), spoken)
    assert episode.outline_offset == pytest.approx(0.0)
    assert [c.start for c in episode.chapters[1:]] == pytest.approx([20, 80, 200, 260])


def test_unheard_heading_moves_with_its_neighbours_and_says_so():
    spoken = {h: t + 30 for h, t in zip(HEADINGS, STATED) if not h.startswith("Measuring")}
    episode, _ = align(timed_notes(), spoken)
    chapter = episode.chapters[2]
    assert chapter.start == pytest.approx(110.0) and chapter.confidence == 0.0


def test_headings_not_spoken_move_nothing():
    episode, notes = align(timed_notes(), {})
    assert [c.start for c in episode.chapters[1:]] == STATED
    assert all(c.confidence is None for c in episode.chapters)
    assert episode.outline_offset == 0.0 and notes == []
    assert describe_alignment(episode) is None


def test_one_heading_heard_is_not_enough_evidence():
    episode, _ = align(timed_notes(), {HEADINGS[1]: 300.0})
    assert [c.start for c in episode.chapters[1:]] == STATED


def test_a_chapter_never_moves_past_its_neighbours():
    # The third heading is also said (quoted) early on, before the second chapter.
    spoken = {h: t + 30 for h, t in zip(HEADINGS, STATED)}
    segments = transcript_with_headings(spoken) + [make_segment(HEADINGS[2] + ".", 60.0, 0.35)]
    segments.sort(key=lambda s: s.start)
    chapters, _ = plan_chapters(parse_notes(timed_notes()), 400.0, "Episode")
    align_timed_chapters(chapters, segments, 400.0)
    starts = [c.start for c in chapters]
    assert starts == sorted(starts)
    assert starts[3] == pytest.approx(170.0)


def test_headings_only_outline_is_placed_where_heard():
    notes = "Outline:\n" + "\n".join(HEADINGS) + "\n---\n"
    episode, notes_out = align(notes, {h: t + 7 for h, t in zip(HEADINGS, STATED)})
    assert [c.title for c in episode.chapters] == ["Episode"] + HEADINGS
    assert [c.start for c in episode.chapters[1:]] == pytest.approx([t + 7 for t in STATED])
    assert all(c.stated_start is None for c in episode.chapters)
    assert notes_out == []
    assert describe_alignment(episode) == "placed 4 of 4 headings where they are heard"


def test_headings_only_unheard_heading_is_kept_empty_with_a_warning():
    notes = "\n".join(HEADINGS)
    spoken = {h: t for h, t in zip(HEADINGS, STATED) if not h.startswith("A detour")}
    episode, notes_out = align(notes, spoken)
    detour = episode.chapters[3]
    assert detour.title == HEADINGS[2] and detour.start == detour.end == pytest.approx(200.0)
    assert detour.confidence == 0.0 and detour.segments == []
    assert any("'A detour through railway timetables' was not heard" in n for n in notes_out)


def test_headings_only_first_heading_at_the_start_needs_no_opening():
    chapters, _ = plan_chapters(parse_notes("\n".join(HEADINGS)), 400.0, "Episode")
    assert len(chapters) == 5
    episode, _ = align("\n".join(HEADINGS), dict(zip(HEADINGS, [0.0, 80.0, 140.0, 200.0])))
    assert [c.title for c in episode.chapters] == HEADINGS
    assert [c.position for c in episode.chapters] == [0, 1, 2, 3]


def test_place_headings_prefers_the_order_of_the_outline():
    segments = transcript_with_headings(
        {HEADINGS[0]: 50, HEADINGS[1]: 100, HEADINGS[0] + " x": 150}
    )
    chapters, _ = plan_chapters(parse_notes("\n".join(HEADINGS[:2])), 400.0, "Episode")
    place_headings(chapters, segments, 400.0)
    assert [c.start for c in chapters[1:]] == pytest.approx([50, 100])


def test_headings_only_unheard_heading_starts_at_the_clear_pause_before_the_next():
    spoken = {h: t for h, t in zip(HEADINGS, STATED) if not h.startswith("A detour")}
    segments = transcript_with_headings(spoken)
    # The narrator pauses for 3 s before the unheard heading at 170 s, and only there.
    segments = [s for s in segments if not 167.0 <= s.start < 170.0]
    segments.append(make_segment("a garbled line the recogniser made up.", 170.0, 0.35))
    segments.sort(key=lambda s: s.start)
    chapters, _ = plan_chapters(parse_notes("\n".join(HEADINGS)), 400.0, "Episode")
    place_headings(chapters, segments, 400.0)
    detour = chapters[3]
    assert detour.start == pytest.approx(170.0) and detour.confidence == 0.0


def test_timed_heading_garbled_beyond_its_content_words_is_found_where_pinned_down():
    spoken = {h: t + 30 for h, t in zip(HEADINGS, STATED)}
    spoken["How did our kind begin"] = spoken.pop(HEADINGS[0])
    episode, _ = align(timed_notes(), spoken)
    first = episode.chapters[1]
    assert first.start == pytest.approx(50.0) and 0.5 <= first.confidence < 0.72
