"""Find where each chapter's heading is spoken, and move the chapter there.

Narrated articles read every heading aloud, so the transcript shows where a chapter
really starts even when the show notes' times are off (ads inserted before or between
chapters, a re-edited episode). The steps:

1. Candidate matches: windows of the word stream that read like the heading (fuzzy
   match on normalised words, so ASR slips such as "chapter"/"chapters" still count).
2. A global offset: the shift that most distinctive headings agree on. Without at least
   two headings agreeing, nothing moves: a wrong move is worse than none.
3. Per chapter, in order: the best match near the expected time (stated + the current
   shift, which follows a mid-roll ad once one is seen), never before the previous
   chapter. A chapter whose heading is not heard moves with the current shift.
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz

from .records import Chapter, Segment
from .textnorm import normalise_words

MATCH_SCORE = 0.72  # fuzzy similarity for a heading match
WEAK_SCORE = 0.5  # enough only where the neighbouring chapters pin the heading down
STRONG_SCORE = 0.82  # for matches that vote on the global offset
DISTINCTIVE_WORDS = 3  # shorter headings ("Q&A") are too common in speech to vote
OFFSET_TOLERANCE = 3.0  # seconds within which two headings agree on an offset
SEARCH_BEFORE = 20.0  # how far before the expected time a heading may be heard
SEARCH_AFTER = 150.0  # and after: room for a mid-roll ad the outline knows nothing of
SHORT_HEADING_WINDOW = 10.0  # short headings are only trusted close to where expected
TYPICAL_CHAPTERS_BACK = 1.5  # an unheard heading is sought this many chapter lengths back
MIN_PAUSE = 0.5  # seconds of silence that can mark an unheard heading
CLEAR_PAUSE_RATIO = 1.5  # ... when this many times longer than any other pause near it


@dataclass
class Token:
    text: str
    start: float
    end: float


@dataclass
class Match:
    start: float
    score: float


def word_tokens(segments: list[Segment]) -> list[Token]:
    """The transcript as normalised tokens, each with its word's times."""
    tokens = []
    for segment in segments:
        for word in segment.words:
            for text in normalise_words(word.word):
                tokens.append(Token(text, word.start, word.end))
    return tokens


def find_heading(
    tokens: list[Token],
    title: str,
    low: float,
    high: float,
    min_score: float = MATCH_SCORE,
    need_content: bool = True,
) -> list[Match]:
    """Places between ``low`` and ``high`` seconds where ``title`` is spoken, best first.

    ``need_content=False`` drops the content-word test, for a few seconds' window that
    the neighbouring chapters already pin down: there ASR may garble every content word
    ("how did our kind begin" for "how the archive began").
    """
    heading = normalise_words(title)
    if not heading:
        return []
    target = " ".join(heading)
    starts_like, content_hits, needed = _window_filters(tokens, heading)
    needed = needed if need_content else 0
    lengths = range(max(1, len(heading) - 2), len(heading) + 4)
    matches = []
    for index in range(len(tokens)):
        if not (low <= tokens[index].start <= high and starts_like[index]):
            continue
        widest = min(index + lengths[-1], len(tokens))
        if content_hits[widest] - content_hits[index] < needed:
            continue
        best = 0.0
        # ASR may split a long word in several ("advertisements" → "aren't we're").
        for length in lengths:
            said = " ".join(token.text for token in tokens[index : index + length])
            best = max(best, fuzz.ratio(target, said, score_cutoff=min_score * 100) / 100)
        if best >= min_score:
            matches.append(Match(tokens[index].start, best))
    return _best_per_place(matches)


def _window_filters(tokens: list[Token], heading: list[str]) -> tuple[list[bool], list[int], int]:
    """Cheap tests that rule out most windows before the fuzzy comparison.

    A window must start within two words of a word like the heading's, and hold a third
    of its content words (a running count checks any window in constant time). "Like"
    is the same word or the same first four letters ("advertisement"/"advertisements").
    """
    content = [word for word in heading if len(word) > 3] or heading
    like_heading = _resembles(tokens, heading)
    like_content = _resembles(tokens, content)
    padded = like_heading + [False, False]
    starts_like = [any(padded[i : i + 3]) for i in range(len(tokens))]
    content_hits = [0]
    for hit in like_content:
        content_hits.append(content_hits[-1] + hit)
    return starts_like, content_hits, max(1, -(-len(set(content)) // 3))


def _resembles(tokens: list[Token], words: list[str]) -> list[bool]:
    exact = set(words)
    stems = {word[:4] for word in words if len(word) >= 4}
    return [t.text in exact or (len(t.text) >= 4 and t.text[:4] in stems) for t in tokens]


def _best_per_place(matches: list[Match]) -> list[Match]:
    """Overlapping windows find the same place several times; keep the best of each."""
    kept: list[Match] = []
    for match in sorted(matches, key=lambda m: -m.score):
        if all(abs(match.start - other.start) > 1.0 for other in kept):
            kept.append(match)
    return kept


def global_offset(chapters: list[Chapter], tokens: list[Token], duration: float) -> float | None:
    """The shift at the start of the episode, if distinctive headings agree on one.

    Ads only push what follows them later, so the offset the earliest headings agree on
    is the one for the whole outline (a pre-roll); a mid-roll shows up later as a second
    offset, which the per-chapter search follows. Returns None without agreement.
    """
    votes: list[tuple[float, int]] = []  # (offset, chapter position)
    voters = 0
    for chapter in chapters:
        if chapter.stated_start is None or len(normalise_words(chapter.title)) < DISTINCTIVE_WORDS:
            continue
        voters += 1
        for match in find_heading(tokens, chapter.title, 0.0, duration):
            if match.score >= STRONG_SCORE:
                votes.append((match.start - chapter.stated_start, chapter.position))
    needed = min(2, voters)
    clusters = []
    for offset, _ in votes:
        agreeing = [(o, pos) for o, pos in votes if abs(o - offset) <= OFFSET_TOLERANCE]
        positions = {pos for _, pos in agreeing}
        if len(positions) >= needed:
            clusters.append((min(positions), -len(positions), [o for o, _ in agreeing]))
    if not clusters:
        return None
    _, _, offsets = min(clusters, key=lambda cluster: cluster[:2])
    return sorted(offsets)[len(offsets) // 2]


def align_timed_chapters(
    chapters: list[Chapter], segments: list[Segment], duration: float
) -> float | None:
    """Move timed chapters to their spoken headings and return the outline's offset;
    None (and nothing moved) when the headings are not spoken."""
    tokens = word_tokens(segments)
    offset = global_offset(chapters, tokens, duration)
    if offset is None:
        return None
    shift, previous = offset, 0.0
    for chapter in chapters:
        if chapter.stated_start is None:
            previous = chapter.start
            continue
        expected = chapter.stated_start + shift
        if not normalise_words(chapter.title):
            # Nothing to hear (an untitled toc:false marker): it moves with the outline.
            chapter.start = min(max(expected, previous), duration)
            previous = chapter.start
            continue
        match = _nearest_good_match(tokens, chapter.title, expected, previous)
        if match is not None:
            chapter.start, chapter.confidence = match.start, round(match.score, 3)
            shift = match.start - chapter.stated_start
        else:
            chapter.start, chapter.confidence = min(max(expected, previous), duration), 0.0
        previous = chapter.start
    _recover_between_shifts(chapters, tokens)
    _close_ends(chapters, duration)
    return round(offset, 3)


def _recover_between_shifts(chapters: list[Chapter], tokens: list[Token]) -> None:
    """Second look at headings not heard, where the neighbours pin them down.

    Between two heard chapters the unheard one starts at its stated time plus either
    the earlier or the later chapter's shift (an ad sits before or after it). A weak
    match right at one of those two places is taken; anything else is left alone.
    """
    for index, chapter in enumerate(chapters):
        if chapter.confidence != 0.0:
            continue
        before, after = _heard_neighbours(chapters, index)
        low = before.start + 0.5 if before else 0.0
        high = after.start - 0.5 if after else chapter.end
        places = {chapter.start}
        if after is not None:
            places.add(chapter.stated_start + after.start - after.stated_start)
        matches = [
            m
            for place in places
            for m in find_heading(
                tokens,
                chapter.title,
                max(low, place - 4),
                min(high, place + 4),
                WEAK_SCORE,
                need_content=False,
            )
        ]
        if matches:
            best = max(matches, key=lambda m: m.score)
            chapter.start, chapter.confidence = best.start, round(best.score, 3)


def _heard_neighbours(chapters: list[Chapter], index: int):
    heard = [c for c in chapters if c.confidence and c.stated_start is not None]
    before = [c for c in heard if c.position < chapters[index].position]
    after = [c for c in heard if c.position > chapters[index].position]
    return (before[-1] if before else None), (after[0] if after else None)


def _nearest_good_match(tokens, title: str, expected: float, previous: float) -> Match | None:
    short = len(normalise_words(title)) < DISTINCTIVE_WORDS
    before = SHORT_HEADING_WINDOW if short else SEARCH_BEFORE
    after = SHORT_HEADING_WINDOW if short else SEARCH_AFTER
    low = max(previous + 0.5, expected - before)
    candidates = find_heading(tokens, title, low, expected + after)
    if not candidates:
        return None
    # The best match wins; among near-equals, the one closest to where it was expected.
    return max(candidates, key=lambda m: m.score - abs(m.start - expected) / 1000.0)


def _close_ends(chapters: list[Chapter], duration: float) -> None:
    for chapter, following in zip(chapters, chapters[1:]):
        chapter.end = following.start
    chapters[-1].end = duration


def place_headings(chapters: list[Chapter], segments: list[Segment], duration: float) -> None:
    """Place untimed headings where they are heard, in outline order.

    Among every heading's candidate matches, pick the set with the highest total score
    whose times increase in outline order. A heading never heard starts at the clearest
    pause shortly before the next placed heading (narrators pause before a heading), or,
    with no pause to go by, as an empty chapter just before it.
    """
    tokens = word_tokens(segments)
    heading_chapters = [c for c in chapters if c.stated_start is None and c.position > 0]
    placed = _best_increasing_matches(
        [find_heading(tokens, c.title, 0.0, duration)[:8] for c in heading_chapters]
    )
    placed = _recover_between_placed(heading_chapters, placed, tokens, duration)
    window = TYPICAL_CHAPTERS_BACK * _typical_chapter_length(placed)
    following = duration
    for index in reversed(range(len(heading_chapters))):
        chapter, match = heading_chapters[index], placed[index]
        if match is None:
            earliest = max((m.start + 0.5 for m in placed[:index] if m), default=0.0)
            low = max(earliest, following - window)
            chapter.start = _clearest_pause(tokens, low, following - 0.5) or following
            chapter.confidence = 0.0
        else:
            chapter.start, chapter.confidence = match.start, round(match.score, 3)
        following = chapter.start
    _close_ends(chapters, duration)


def _typical_chapter_length(placed: list[Match | None]) -> float:
    """The median time between consecutive placed headings (0: fewer than two placed)."""
    starts = [m.start for m in placed if m]
    lengths = sorted(b - a for a, b in zip(starts, starts[1:]))
    return lengths[len(lengths) // 2] if lengths else 0.0


def _clearest_pause(tokens: list[Token], low: float, high: float) -> float | None:
    """Where speech resumes after a silence between ``low`` and ``high`` that stands out.

    The longest pause counts only if it is clearly longer than the next longest: evenly
    paused speech says nothing about where a heading was.
    """
    pauses = sorted(
        (following.start - token.end, following.start)
        for token, following in zip(tokens, tokens[1:])
        if low <= following.start <= high and following.start - token.end >= MIN_PAUSE
    )
    if not pauses:
        return None
    longest, resumes = pauses[-1]
    runner_up = pauses[-2][0] if len(pauses) > 1 else 0.0
    return resumes if longest >= CLEAR_PAUSE_RATIO * runner_up else None


def _recover_between_placed(
    chapters: list[Chapter], placed: list[Match | None], tokens: list[Token], duration: float
) -> list[Match | None]:
    """A heading not heard gets a second, weaker look between its placed neighbours."""
    placed = list(placed)
    for index, (chapter, match) in enumerate(zip(chapters, placed)):
        if match is not None:
            continue
        low = max((m.start + 0.5 for m in placed[:index] if m), default=0.0)
        high = min((m.start - 0.5 for m in placed[index + 1 :] if m), default=duration)
        candidates = find_heading(tokens, chapter.title, low, high, WEAK_SCORE)
        if candidates:
            placed[index] = candidates[0]
    return placed


def _best_increasing_matches(candidates: list[list[Match]]) -> list[Match | None]:
    """One match or none per heading, times increasing, total score as high as possible."""
    options = [(i, match) for i, matches in enumerate(candidates) for match in matches]
    total: list[float] = []
    back: list[int | None] = []
    for k, (i, match) in enumerate(options):
        earlier = [j for j, (i2, m2) in enumerate(options[:k]) if i2 < i and m2.start < match.start]
        best = max(earlier, key=lambda j: total[j], default=None)
        total.append(match.score + (total[best] if best is not None else 0.0))
        back.append(best)
    chosen: list[Match | None] = [None] * len(candidates)
    k = max(range(len(options)), key=lambda j: total[j], default=None)
    while k is not None:
        chosen[options[k][0]] = options[k][1]
        k = back[k]
    return chosen
