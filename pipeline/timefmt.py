"""Turning seconds into the clock strings people read, and back."""

from __future__ import annotations

import re

from plugins.archive_rules import clock, hours_minutes_seconds

_CLOCK = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{2})(?:[.,](\d+))?$")


def format_clock(seconds: float | None) -> str:
    """``4:28``, ``1:02:06``; tenths shown only under a minute (``0:05.5``)."""
    if seconds is None:
        return "-"
    seconds = max(0.0, float(seconds))
    if seconds < 60 and seconds != int(seconds):
        return f"0:{seconds:04.1f}"
    hours, minutes, secs = hours_minutes_seconds(int(round(seconds)))
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"


def format_timestamp(seconds: float) -> str:
    """``[mm:ss]`` style used next to search hits and in readable transcripts: the web
    pages' clock, so a time reads the same in the terminal and in the browser."""
    return clock(seconds)


def parse_clock(text: str) -> float:
    """``05:32`` → 332.0, ``1:02:06`` → 3726.0, ``0:07.5`` → 7.5."""
    match = _CLOCK.match(text.strip())
    if not match:
        raise ValueError(f"not a time: {text!r}")
    hours, minutes, seconds, fraction = match.groups()
    if int(seconds) >= 60 or (hours is not None and int(minutes) >= 60):
        raise ValueError(f"not a time: {text!r}")
    value = int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds)
    if fraction:
        value += float("0." + fraction)
    return float(value)
