import pytest

from pipeline.coverage import (
    group_into_windows,
    merge_close,
    skipped_speech,
    snap_words_to_speech,
    words_inside,
)
from pipeline.records import Segment, Word

from .conftest import make_segment


def test_speech_with_no_words_is_reported():
    segments = [make_segment("one two three", 1.0), make_segment("four five six", 12.0)]
    speech = [(0.5, 3.0), (4.0, 14.0)]
    assert skipped_speech(speech, segments) == [(4.0, 11.7)]


def test_pauses_shorter_than_the_gap_are_not_reported():
    segments = [make_segment("one two", 0.0), make_segment("three four", 2.5)]
    assert skipped_speech([(0.0, 3.5)], segments) == []


def test_speech_trailing_after_the_last_word_is_reported():
    segments = [make_segment("one two", 0.0)]
    [(start, end)] = skipped_speech([(0.0, 6.0)], segments)
    assert start == pytest.approx(0.72 + 0.3) and end == 6.0


def test_region_with_no_words_at_all():
    assert skipped_speech([(10.0, 20.0)], []) == [(10.0, 20.0)]


def test_words_inside_keeps_only_words_in_the_span():
    redone = [make_segment("before the gap. inside the gap here. after", 9.0, 0.5)]
    kept = words_inside(redone, (10.4, 12.45))
    assert [s.text for s in kept] == ["inside the gap here."]
    assert kept[0].start >= 10.4 - 0.5


def test_first_word_pulled_back_across_a_pause_moves_to_where_speech_resumes():
    # As on the bundled example: "The" timed 10.92-11.68, "problem" from 12.1, and the
    # voice detector hears silence from 11.22 to 12.33, after the previous sentence.
    before = make_segment("but almost none of it can", 8.0, 0.45)  # ends 10.61
    said = Segment(
        10.92,
        13.5,
        "The problem with listening.",
        [
            Word(10.92, 11.68, " The", 0.5),
            Word(12.1, 12.6, " problem", 0.9),
            Word(12.7, 12.9, " with", 0.9),
            Word(13.0, 13.5, " listening.", 0.9),
        ],
    )
    snap_words_to_speech([before, said], [(4.72, 11.22), (12.33, 20.0)])
    assert said.start == said.words[0].start == 12.33
    assert said.words[1].start == 12.33 and said.words[1].end == 12.6
    assert [w.start for w in said.words] == sorted(w.start for w in said.words)


def test_a_first_word_with_speech_of_its_own_stays_before_the_pause():
    said = Segment(
        13.0,
        16.5,
        "One. From fairest creatures",
        [
            Word(13.0, 14.6, " One.", 0.9),
            Word(15.2, 15.5, " From", 0.9),
            Word(15.6, 16.0, " fairest", 0.9),
            Word(16.1, 16.5, " creatures", 0.9),
        ],
    )
    previous = make_segment("for your country.", 9.0, 0.5)  # ends 10.2
    snap_words_to_speech([previous, said], [(8.9, 10.8), (12.9, 13.6), (15.1, 17.0)])
    assert (said.words[0].start, said.words[0].end) == (13.0, 13.6)
    assert said.start == 13.0


def test_a_word_said_before_a_pause_stays_before_it():
    said = Segment(
        1.0,
        4.0,
        "So, what I mean",
        [Word(1.0, 1.3, " So,", 0.9), Word(2.0, 2.3, " what", 0.9), Word(2.4, 2.6, " I", 0.9)],
    )
    snap_words_to_speech([said], [(0.9, 1.4), (1.9, 3.0)])
    assert (said.words[0].start, said.words[0].end) == (1.0, 1.3)


def test_word_starting_in_silence_starts_where_the_speech_does():
    said = make_segment("after", 10.0, 1.0)  # 10.0 .. 10.8
    snap_words_to_speech([said], [(0.0, 9.0), (10.5, 12.0)])
    assert (said.words[0].start, said.words[0].end) == (10.5, 10.8)


def test_word_end_running_into_a_pause_stops_where_the_speech_does():
    said = make_segment("slow", 4.8, 1.0)  # 4.8 .. 5.6
    snap_words_to_speech([said], [(0.0, 5.0), (7.0, 9.0)])
    assert (said.words[0].start, said.words[0].end) == (4.8, 5.0)


def test_words_outside_any_pause_are_untouched():
    said = make_segment("one two three", 1.0)
    before = [(w.start, w.end) for w in said.words]
    snap_words_to_speech([said], [(0.5, 3.0)])
    assert [(w.start, w.end) for w in said.words] == before


def test_merge_close_joins_short_pauses_only():
    spans = [(0.0, 1.0), (1.5, 3.0), (6.0, 7.0)]
    assert merge_close(spans, 2.0) == [(0.0, 3.0), (6.0, 7.0)]


def test_stretches_close_together_share_a_decoding_window():
    spans = [(33.0, 37.3), (40.7, 44.3), (51.8, 55.4), (67.5, 72.8), (100.0, 140.0)]
    groups = group_into_windows(spans, 0.5, 30.0)
    assert groups == [spans[:3], [spans[3]], [spans[4]]]
    assert group_into_windows(spans[:3], 8.0, 30.0) == [spans[:2], [spans[2]]]



def test_detector_windows_restart_at_whole_windows_of_file_time():
    from pipeline.transcribe import detector_windows

    second = 16_000
    # Samples starting 20 s into the file: the first window ends at the file's 30 s.
    assert detector_windows(70 * second, 30.0, 20.0) == [
        (0, 10 * second),
        (10 * second, 40 * second),
        (40 * second, 70 * second),
    ]
    assert detector_windows(45 * second, 30.0, 0.0) == [(0, 30 * second), (30 * second, 45 * second)]
    assert detector_windows(5 * second, 30.0, 60.0) == [(0, 5 * second)]


def test_a_stretch_filled_only_at_one_end_goes_on_to_the_next_try():
    """Words found at the start of a long stretch of speech do not close it: the rest is
    decoded again more widely, and listed as a gap when that finds nothing either."""
    import numpy as np

    from pipeline.transcribe import REDECODE_CONTEXTS, Transcriber

    tries = []

    def decode_span(samples, start, end, language, vad_filter=True):
        tries.append((round(start, 1), round(end, 1)))
        return [make_segment("Houston", 10.2)] if len(tries) == 1 else []

    transcriber = Transcriber.__new__(Transcriber)  # no model: decoding is faked
    transcriber._decode_span = decode_span
    samples = np.zeros(30 * 16000, dtype=np.float32)
    segments, gaps = transcriber._redecode_skipped_speech(samples, [], [(10.0, 22.0)], "en")
    assert [w.word.strip() for s in segments for w in s.words] == ["Houston"]
    assert len(tries) == len(REDECODE_CONTEXTS)  # the rest was tried again
    [gap] = gaps
    assert 10.5 < gap.start < 11.0 and gap.end == 22.0
