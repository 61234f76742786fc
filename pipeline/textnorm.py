"""Comparable words: the form used to match headings and to score transcripts."""

from __future__ import annotations

import re
import unicodedata

_NUMBER_WORDS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen "
    "fourteen fifteen sixteen seventeen eighteen nineteen twenty"
).split()
_ROMAN_LINE = re.compile(r"^\s*([IVXL]+)\s*$", re.M)
_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50}
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z0-9]+)*")


def normalise_words(text: str) -> list[str]:
    """Lower-case words without punctuation, accents or typographic quotes; small numbers spelt."""
    text = _ROMAN_LINE.sub(lambda m: str(_roman_to_int(m.group(1))), text)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.replace("’", "'").replace("‘", "'").lower()
    words = []
    for word in _WORD.findall(text):
        if word.isdigit() and int(word) < len(_NUMBER_WORDS):
            word = _NUMBER_WORDS[int(word)]
        words.append(word)
    return words


def word_error_rate(reference: str, hypothesis: str) -> float:
    """(substitutions + deletions + insertions) / reference words, after normalising both."""
    ref, hyp = normalise_words(reference), normalise_words(hypothesis)
    if not ref:
        return float(bool(hyp))
    previous = list(range(len(hyp) + 1))
    for i, ref_word in enumerate(ref, start=1):
        current = [i] + [0] * len(hyp)
        for j, hyp_word in enumerate(hyp, start=1):
            current[j] = min(
                previous[j] + 1,
                current[j - 1] + 1,
                previous[j - 1] + (ref_word != hyp_word),
            )
        previous = current
    return previous[-1] / len(ref)


def _roman_to_int(numeral: str) -> int:
    total = 0
    for value, following in zip(numeral, numeral[1:] + " "):
        worth = _ROMAN_VALUES[value]
        total += -worth if _ROMAN_VALUES.get(following, 0) > worth else worth
    return total


def one_line(text: str) -> str:
    """Text with every run of whitespace, line breaks included, as one space."""
    return " ".join(text.split())


def plural(count: int, noun: str) -> str:
    """``1 chapter``, ``5 chapters``."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
