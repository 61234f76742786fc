import pytest

from pipeline.coverage import skipped_speech, words_inside

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
