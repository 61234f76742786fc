"""What Podcasting 2.0 JSON documents (chapters, transcripts) share: an object holding one
list, and times that are plain finite numbers of seconds."""

from __future__ import annotations

import json
import math


def json_list(text: str, name: str, key: str, error: type[Exception]) -> tuple[dict, list]:
    """The document in ``text`` and its ``key`` list; ``error`` says what is wrong, in one line."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as ex:
        raise error(
            f"{name}: not valid JSON (line {ex.lineno} column {ex.colno}: {ex.msg})"
        ) from None
    if not isinstance(document, dict) or not isinstance(document.get(key), list):
        raise error(f'{name}: expected an object with a "{key}" list')
    return document, document[key]


def is_number(value) -> bool:
    """A finite int or float (JSON's true and false are not numbers here)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
