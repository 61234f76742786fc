"""Publishers' transcripts as real tools write them: YouTube-style WebVTT, SubRip with a
lost timing line, HTML with <time> marks, JSON without end times; and transcripts that
do not fit the audio they come with."""

import json

from pipeline.ingest import EpisodeRequest, prepare_episode
from pipeline.publisher_transcripts import parse_transcript
from pipeline.records import Segment, Transcript
from pipeline.settings import TranscriptionSettings

from .conftest import CORPUS, FakeTranscriber

YOUTUBE_VTT = """WEBVTT
Kind: captions
Language: en

00:05:02.560 --> 00:05:04.080 align:start position:0%
 
so<00:05:02.800><c> this</c><00:05:03.120><c> is</c><00:05:03.440><c> how</c>

00:05:04.080 --> 00:05:04.090 align:start position:0%
so this is how
 

00:05:04.090 --> 00:05:07.000 align:start position:0%
so this is how
it<00:05:04.400><c> works</c><00:05:05.000><c> today</c>
00:05:07.000 --> 00:05:09.500 align:start position:0%
a cue right after the last
"""


def texts(transcript):
    return [(s.start, s.end, s.text) for s in transcript.segments]


def test_youtube_style_webvtt_keeps_every_cue_once_with_its_word_times():
    transcript, warnings = parse_transcript(YOUTUBE_VTT, "vtt", "yt.vtt")
    assert warnings == []
    assert texts(transcript) == [
        (302.56, 304.08, "so this is how"),
        (304.09, 307.0, "it works today"),
        (307.0, 309.5, "a cue right after the last"),
    ]
    assert not any("-->" in s.text or "<" in s.text for s in transcript.segments)
    first = transcript.segments[0]
    assert [(w.start, w.word) for w in first.words] == [
        (302.56, " so"),
        (302.8, " this"),
        (303.12, " is"),
        (303.44, " how"),
    ]


def test_srt_cue_without_a_timing_line_is_reported_not_glued():
    text = (
        "1\n00:00:01,000 --> 00:00:02,000\nfirst line\n\n"
        "2\nthe timing line of this cue was lost\n\n"
        "3\n00:00:03,000 --> 00:00:04,000\nthird\n"
    )
    transcript, warnings = parse_transcript(text, "srt", "ep.srt")
    assert texts(transcript) == [(1.0, 2.0, "first line"), (3.0, 4.0, "third")]
    assert warnings == [
        "ep.srt line 5: text with no cue timing ('2 the timing line of this cue was lost'); "
        "left out"
    ]


def test_srt_speaker_names_become_speakers():
    text = (
        "1\n00:00:00,000 --> 00:00:02,000\nSarah: Hello there.\n\n"
        "2\n00:00:02,000 --> 00:00:04,000\nStill me.\n\n"
        "3\n00:00:04,000 --> 00:00:06,000\nTravis: Hi Sarah.\n\n"
        "4\n00:00:06,000 --> 00:00:08,000\nSarah: Note: this stays.\n"
    )
    transcript, _ = parse_transcript(text, "srt", "ep.srt")
    assert [(s.speaker, s.text) for s in transcript.segments] == [
        ("Sarah", "Hello there."),
        ("Sarah", "Still me."),  # named only where the speaker changes
        ("Travis", "Hi Sarah."),
        ("Sarah", "Note: this stays."),
    ]


def test_one_name_and_colon_in_srt_is_text():
    text = "1\n00:00:00,000 --> 00:00:02,000\nNote: the show is live.\n"
    transcript, _ = parse_transcript(text, "srt", "ep.srt")
    assert [(s.speaker, s.text) for s in transcript.segments] == [(None, "Note: the show is live.")]


HTML = """<cite>Travis:</cite>
<time>0:00</time>
<p>When you first get started, it&#39;s easy. Mistakes happen! So we went back.</p>
<cite>Sarah:</cite>
<time>0:53</time>
<p>Creating good audio is really key.</p>
"""


def test_html_transcript_with_time_marks():
    transcript, warnings = parse_transcript(HTML, "html", "t.html")
    assert warnings == [] and transcript.model == "publisher:html"
    segments = transcript.segments
    assert [(s.speaker, s.text) for s in segments] == [
        ("Travis", "When you first get started, it's easy."),
        ("Travis", "Mistakes happen!"),
        ("Travis", "So we went back."),
        ("Sarah", "Creating good audio is really key."),
    ]
    assert segments[0].start == 0.0 and segments[2].end == 53.0 and segments[3].start == 53.0
    assert segments[0].end < segments[1].start + 0.001 and segments[1].end <= segments[2].start
    assert segments[3].end == 53.0 + 0.4 * 6


def test_json_transcript_without_end_times_gives_the_last_segment_a_length():
    document = {
        "version": "1.0.0",
        "segments": [
            {"startTime": 0, "body": "One two three."},
            {"startTime": 2.5, "body": "Four five six seven eight."},
        ],
    }
    transcript, _ = parse_transcript(json.dumps(document), "json", "t.json")
    assert texts(transcript) == [
        (0, 2.5, "One two three."),
        (2.5, 4.5, "Four five six seven eight."),
    ]


def prepared(transcript, tmp_path):
    warnings = []
    request = EpisodeRequest(str(CORPUS / "jfk.flac"), None, transcript=transcript)
    episode = prepare_episode(request, TranscriptionSettings(), FakeTranscriber, warn=warnings.append)
    return episode, warnings


def test_a_transcript_far_past_the_audio_is_transcribed_instead(tmp_path):
    segments = [Segment(286.0 + i, 287.0 + i, f"late words {i}") for i in range(5)]
    episode, warnings = prepared(Transcript(segments, "en", 291.0, "publisher:vtt"), tmp_path)
    assert episode.transcript.model == "fake"
    assert len(warnings) == 1
    assert "runs to 4:51, past the end of the audio (0:11)" in warnings[0]
    assert "5 of 5 segments start after it; transcribing the audio instead" in warnings[0]
    assert episode.warnings == warnings


def test_a_transcript_a_little_past_the_audio_is_cut_to_it(tmp_path):
    segments = [Segment(0.0, 5.0, "early"), Segment(9.0, 12.5, "ends late")]
    segments += [Segment(13.0, 14.0, "after the end")]
    episode, warnings = prepared(Transcript(segments, "en", 14.0, "publisher:srt"), tmp_path)
    stored = [s for c in episode.chapters for s in c.segments]
    assert [(s.text, s.end) for s in stored] == [
        ("early", 5.0),
        ("ends late", episode.audio.duration),
    ]
    assert "1 of 3 segments start after it; those were left out" in warnings[0]


def test_silence_is_stored_with_a_warning(tmp_path):
    silent = Transcript([], "en", 11.0, "publisher:vtt")
    _, warnings = prepared(silent, tmp_path)
    assert warnings == [
        f"{CORPUS / 'jfk.flac'}: no speech found in 0:11 of audio; stored with an empty transcript"
    ]
