"""Publishers' transcripts (SRT, WebVTT, Podcasting 2.0 JSON) read into segments."""

import json

import pytest

from pipeline.publisher_transcripts import (
    TranscriptFormatError,
    parse_transcript,
    transcript_kind,
)

# The shapes of the Podcasting 2.0 spec's own examples, with the quirks real files have.
SRT = (
    "\ufeff1\r\n00:00:00,000 --> 00:00:02,760\r\nSarah: In today's episode,\r\n"
    "you'll learn <i>whether</i> or not you\r\n\r\n"
    "2\r\n00:00:02,760 --> 00:00:06,090\r\nshould have a podcast trailer.\r\n\r\n"
    "3\r\n00:00:06,090 --> 00:00:11,610\r\ninclude in one?\r\n\r\nWelcome to Q&A.\r\n"
)
VTT = """WEBVTT - an episode
Kind: captions

STYLE
::cue { color: yellow }

NOTE This is a comment
over two lines, 00:00:01.000 in it

intro
00:00.000 --> 00:05.000 align:start position:10%
<v John>Podcasting 2.0 is <b>really</b> changing the game.

00:00:05.000 --> 00:00:10.000
<v Tom>Yeah, absolutely &amp; the new features &lt;3 are incredible.

00:00:10.000 --> 00:00:15.000
<v Tom>It's amazing how it's
<c.loud>empowering</c> creators.
"""


def test_srt_cues_become_segments():
    transcript, warnings = parse_transcript(SRT, "srt", "ep.srt", language="en")
    # A block with no timing line is its own (broken) cue, not more of the one before.
    assert warnings == ["ep.srt line 14: text with no cue timing ('Welcome to Q&A.'); left out"]
    assert [(s.start, s.end, s.text) for s in transcript.segments] == [
        (0.0, 2.76, "Sarah: In today's episode, you'll learn whether or not you"),
        (2.76, 6.09, "should have a podcast trailer."),
        (6.09, 11.61, "include in one?"),
    ]
    assert transcript.model == "publisher:srt" and transcript.language == "en"
    assert transcript.duration == 11.61
    assert all(segment.words == [] for segment in transcript.segments)


def test_webvtt_skips_header_style_and_notes_and_keeps_speakers_once():
    transcript, warnings = parse_transcript(VTT, "vtt", "ep.vtt")
    assert warnings == []
    assert [(s.start, s.end, s.speaker, s.text) for s in transcript.segments] == [
        (0.0, 5.0, "John", "Podcasting 2.0 is really changing the game."),
        (5.0, 10.0, "Tom", "Yeah, absolutely & the new features <3 are incredible."),
        (10.0, 15.0, "Tom", "It's amazing how it's empowering creators."),
    ]
    assert transcript.model == "publisher:vtt"


def test_a_bad_cue_is_reported_and_left_out():
    text = "1\n00:00:01,000 --> 00:00:02,000\nfirst\n\n2\n00:00:0x,000 --> 00:00:04,000\nbad\n"
    transcript, warnings = parse_transcript(text, "srt", "ep.srt")
    assert [s.text for s in transcript.segments] == ["first"]
    assert warnings == [
        "ep.srt line 6: cannot read the cue timing '00:00:0x,000 --> 00:00:04,000'; left out"
    ]


def test_cues_out_of_order_are_sorted_with_a_warning():
    text = "WEBVTT\n\n00:05.000 --> 00:06.000\nlater\n\n00:01.000 --> 00:02.000\nearlier\n"
    transcript, warnings = parse_transcript(text, "vtt", "ep.vtt")
    assert [s.text for s in transcript.segments] == ["earlier", "later"]
    assert warnings == ["ep.vtt: segments are out of time order; sorted"]


@pytest.mark.parametrize(
    "kind, text, message",
    [
        ("srt", "just some words\n", "ep: no transcript segments found (srt)"),
        ("vtt", "WEBVTT\n\nNOTE only a note\n", "ep: no transcript segments found (vtt)"),
        ("json", "{not json", "ep: not valid JSON (line 1 column 2: Expecting property name"),
        ("json", '{"version": "1.0.0"}', 'ep: expected an object with a "segments" list'),
    ],
)
def test_unreadable_transcripts_are_one_clear_error(kind, text, message):
    with pytest.raises(TranscriptFormatError) as error:
        parse_transcript(text, kind, "ep")
    assert str(error.value).startswith(message)


def test_json_segments_with_speakers_and_a_missing_end():
    document = {
        "version": "1.0.0",
        "segments": [
            {"speaker": "Kevin", "startTime": 0, "endTime": 9.2, "body": "We have an update."},
            {"speaker": "Kevin", "startTime": 9.2, "body": "It ships soon."},
            {"speaker": "Alban", "startTime": 12.5, "endTime": 14, "body": "Great news, really."},
            {"startTime": "soon", "body": "no time"},
        ],
    }
    transcript, warnings = parse_transcript(json.dumps(document), "json", "t.json")
    assert [(s.start, s.end, s.speaker, s.text) for s in transcript.segments] == [
        (0.0, 9.2, "Kevin", "We have an update."),
        (9.2, 12.5, "Kevin", "It ships soon."),  # runs to the next segment's start
        (12.5, 14.0, "Alban", "Great news, really."),
    ]
    assert warnings == [
        "t.json segment 4: \"startTime\" missing or not a number ('soon'); left out"
    ]


def test_word_timed_json_becomes_sentences_that_keep_the_word_times():
    words = "I am your father. Search your feelings, you know it to be true.".split()
    segments = [
        {"speaker": "Darth Vader", "startTime": 0.5 + i / 2, "endTime": 0.9 + i / 2, "body": w}
        for i, w in enumerate(words)
    ]
    segments.append({"speaker": "Luke", "startTime": 9.0, "endTime": 10.0, "body": "Nooooo"})
    document = {"version": "1.0.0", "segments": segments}
    transcript, _ = parse_transcript(json.dumps(document), "json", "t.json")
    texts = [(segment.speaker, segment.text) for segment in transcript.segments]
    assert texts == [
        ("Darth Vader", "I am your father."),
        ("Darth Vader", "Search your feelings, you know it to be true."),
        ("Luke", "Nooooo"),
    ]
    first = transcript.segments[0]
    assert (first.start, first.end) == (0.5, 2.4)
    assert [w.word for w in first.words] == [" I", " am", " your", " father."]
    assert first.words[1].start == 1.0 and first.words[1].probability is None


@pytest.mark.parametrize(
    "mime, url, kind",
    [
        ("application/x-subrip", "https://x/t", "srt"),
        ("application/srt", None, "srt"),
        ("text/vtt; charset=utf-8", None, "vtt"),
        ("application/json", None, "json"),
        ("", "https://x/episode.VTT?token=1", "vtt"),
        ("text/html", "https://x/t.html", "html"),
        ("text/plain", "https://x/t.txt", None),
    ],
)
def test_transcript_kind(mime, url, kind):
    assert transcript_kind(mime, url) == kind
