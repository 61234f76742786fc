"""Checks on a transcript against the audio it is stored with.

A publisher's transcript may belong to another edit of the episode (cues at 4:46 for
11 s of audio), and a recording may hold no speech at all; both were stored silently.
"""

from __future__ import annotations

from dataclasses import replace

from .records import Segment, Transcript
from .textnorm import plural
from .timefmt import format_clock

TOLERANCE = 0.5  # seconds: publishers round cue times, and encoders pad the audio's end


def fit_to_audio(
    transcript: Transcript, duration: float, name: str
) -> tuple[Transcript | None, list[str]]:
    """The publisher's transcript cut to the audio, and what was cut. None (transcribe
    instead) when most of it lies past the end: it was made for another edit."""
    past = [segment for segment in transcript.segments if segment.start > duration + TOLERANCE]
    last_end = max((segment.end for segment in transcript.segments), default=0.0)
    if last_end <= duration + TOLERANCE:
        return transcript, []
    problem = (
        f"{name}: the publisher's transcript runs to {format_clock(last_end)}, past the end "
        f"of the audio ({format_clock(duration)}); "
        f"{len(past)} of {plural(len(transcript.segments), 'segment')} start after it"
    )
    if len(past) * 2 > len(transcript.segments):
        return None, [f"{problem}; transcribing the audio instead"]
    kept = [_clipped(s, duration) for s in transcript.segments if s.start <= duration + TOLERANCE]
    fitted = replace(transcript, segments=kept, duration=min(transcript.duration, duration))
    return fitted, [f"{problem}; those were left out"]


def _clipped(segment: Segment, duration: float) -> Segment:
    if segment.end <= duration:
        return segment
    words = [word for word in segment.words if word.start < duration]
    return replace(segment, start=min(segment.start, duration), end=duration, words=words)


def silence_warning(transcript: Transcript, name: str) -> str | None:
    """A line saying that nothing was heard, when nothing was."""
    if any(segment.text.strip() for segment in transcript.segments):
        return None
    return (
        f"{name}: no speech found in {format_clock(transcript.duration)} of audio; "
        "stored with an empty transcript"
    )
