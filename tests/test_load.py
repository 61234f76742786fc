"""Load: 200 searches at once against a served archive of 100 hour-long episodes.

Latency figures come from benchmarks/search_load.py; this test asserts that every search
answers, correctly, while the others are in flight.
"""

import json

from .load import latency_summary, run_searches, search_phrases
from .server import archive_server
from .synthetic import build_synthetic_archive

EPISODES = 100
SEGMENTS_PER_EPISODE = 500  # about an hour of speech in sentence-sized segments
CONCURRENT_SEARCHES = 200


def test_200_concurrent_searches_all_answer(tmp_path):
    path = tmp_path / "load.db"
    words = build_synthetic_archive(path, episodes=EPISODES, segments=SEGMENTS_PER_EPISODE)
    queries = search_phrases(words, CONCURRENT_SEARCHES)
    with archive_server(path) as base:
        answers, wall_seconds = run_searches(base, "load", queries)
    print(json.dumps(latency_summary(answers, wall_seconds)))
    assert [answer.status for answer in answers] == [200] * CONCURRENT_SEARCHES
    assert all(answer.rows > 0 for answer in answers)  # every word is somewhere in the archive
    assert {answer.query for answer in answers} == set(queries)
