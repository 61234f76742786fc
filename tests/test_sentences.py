from pipeline.records import Segment, Word
from pipeline.sentences import MAX_SECONDS, split_into_sentences

from .conftest import make_segment


def texts(segments):
    return [segment.text for segment in segments]


def test_splits_after_sentence_punctuation():
    segment = make_segment("This is the first one. And here is the second? Yes it is indeed!", 0)
    pieces = split_into_sentences(segment)
    assert texts(pieces) == [
        "This is the first one.",
        "And here is the second?",
        "Yes it is indeed!",
    ]
    assert pieces[0].start == segment.words[0].start
    assert pieces[1].start == segment.words[5].start
    assert all(p.avg_logprob == segment.avg_logprob for p in pieces)


def test_short_fragments_stay_with_their_sentence():
    pieces = split_into_sentences(make_segment("Yes. I agree with that.", 0))
    assert texts(pieces) == ["Yes. I agree with that."]


def test_splits_at_long_pauses():
    first = make_segment("words before a long pause", 0)
    second = make_segment("and words after it", 10)
    joined = Segment(0, second.end, "x", first.words + second.words)
    assert texts(split_into_sentences(joined)) == [
        "words before a long pause",
        "and words after it",
    ]


def test_run_on_speech_is_cut_at_a_clause_break_under_the_limit():
    text = " ".join(["one two three four five six seven eight nine ten,"] * 8)
    segment = make_segment(text, 0, seconds_per_word=0.5)  # 40 s without a full stop
    pieces = split_into_sentences(segment)
    assert len(pieces) >= 3
    assert all(p.end - p.start <= MAX_SECONDS for p in pieces)
    assert all(p.text.endswith(",") for p in pieces[:-1])
    assert [w for p in pieces for w in p.words] == segment.words


def test_run_on_speech_without_punctuation_is_cut_at_the_widest_gap():
    words = [Word(i * 0.5, i * 0.5 + 0.4, f" w{i}", 0.9) for i in range(60)]
    words[20:] = [Word(w.start + 0.3, w.end + 0.3, w.word, 0.9) for w in words[20:]]
    pieces = split_into_sentences(Segment(0, words[-1].end, "x", words))
    assert pieces[0].words[-1].word == " w19"
    assert all(p.end - p.start <= MAX_SECONDS for p in pieces)


def test_segment_without_words_is_left_alone():
    segment = Segment(0, 5, "no word timings", [])
    assert split_into_sentences(segment) == [segment]
