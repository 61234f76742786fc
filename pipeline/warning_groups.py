"""Warnings people can read: a few of each kind, then one line counting the rest.

A show-notes page with 5,000 chapters in reverse order gives three lines and
"4,996 more chapters out of time order", not 4,999 lines.
"""

from __future__ import annotations

SHOWN_PER_KIND = 3
MAX_STORED = 50  # per episode, in the warnings table


def capped(messages: list[str], more: str, shown: int = SHOWN_PER_KIND) -> list[str]:
    """The first ``shown`` messages, then "N more <more>" for the rest (when over one)."""
    if len(messages) <= shown + 1:
        return list(messages)
    return messages[:shown] + [f"{len(messages) - shown:,} more {more}"]
