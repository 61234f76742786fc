from pipeline.align import assign_segments, plan_chapters
from pipeline.outline import parse_notes
from pipeline.records import AudioInfo, Segment, Transcript

from .conftest import aligned, make_segment


def chapters_for(notes, duration=60.0):
    chapters, _ = plan_chapters(parse_notes(notes), duration, "Episode")
    return chapters


def test_segments_go_to_the_chapter_they_are_said_in():
    chapters = chapters_for("(00:00) A\n(00:20) B\n(00:40) C")
    segments = [make_segment("in a", 1), make_segment("in b", 25), make_segment("in c", 45)]
    assign_segments(chapters, segments)
    assert [[s.text for s in c.segments] for c in chapters] == [["in a"], ["in b"], ["in c"]]
    assert chapters[1].text == "in b"


def test_a_segment_straddling_a_chapter_start_is_split_at_a_word_boundary():
    chapters = chapters_for("(00:00) A\n(00:20) B")
    straddling = make_segment("end of the first part start of the second", 18.0, 0.5)
    assign_segments(chapters, [straddling])
    first, second = chapters[0].segments, chapters[1].segments
    assert len(first) == len(second) == 1
    assert first[0].end <= 20.0 <= second[0].start
    assert first[0].text + " " + second[0].text == straddling.text
    assert first[0].words + second[0].words == straddling.words


def test_every_word_lands_in_exactly_one_chapter():
    chapters = chapters_for("(00:05) A\n(00:10) B\n(00:11) C\n(00:30) D")
    segments = [make_segment(" ".join(f"w{i}" for i in range(40)), 0.0, 1.0)]
    assign_segments(chapters, segments)
    placed = [w for c in chapters for s in c.segments for w in s.words]
    assert placed == segments[0].words
    for chapter in chapters:
        for segment in chapter.segments:
            for word in segment.words:
                assert chapter.start <= (word.start + word.end) / 2 < chapter.end


def test_segment_without_words_goes_by_its_midpoint():
    chapters = chapters_for("(00:00) A\n(00:20) B")
    assign_segments(chapters, [Segment(17, 25, "mostly in b", [])])
    assert [len(c.segments) for c in chapters] == [0, 1]


def test_align_episode_fills_chapters_and_keeps_the_source():
    audio = AudioInfo("x.wav", "ab" * 32, 60.0, 60.0)
    transcript = Transcript([make_segment("hello there friends", 2)], "en", 60.0, "fake")
    episode, warnings = aligned("id1", "Title", audio, transcript, parse_notes("(00:30) Later"))
    assert warnings == []
    assert [c.title for c in episode.chapters] == ["Title", "Later"]
    assert episode.chapters[0].text == "hello there friends"
    assert episode.outline_source == "notes"
