"""Concurrent searches against a served archive, for the load test and its benchmark."""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from dataclasses import dataclass

import httpx


@dataclass
class Answer:
    query: str
    status: int
    seconds: float
    rows: int


def search_phrases(words: list[str], count: int, seed: int = 11) -> list[str]:
    """Words of middling to rare frequency, and two-word phrases: what people look for.

    The hundred most common words are left out, as a person would leave out "the".
    """
    rng = random.Random(seed)
    content_words = words[100:]
    phrases = []
    for index in range(count):
        if index % 4 == 3:
            phrases.append(" ".join(rng.sample(words[20:200], 2)))  # both words, anywhere
        else:
            phrases.append(rng.choice(content_words))
    return phrases


async def fire_searches(base: str, database: str, queries: list[str]) -> list[Answer]:
    """Send every query at once, each on its own connection; wait for all answers."""
    limits = httpx.Limits(max_connections=len(queries), max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=120) as client:

        async def search(query: str) -> Answer:
            started = time.perf_counter()
            response = await client.get(
                f"/{database}/search.json", params={"q": query, "_shape": "array"}
            )
            rows = len(response.json()) if response.status_code == 200 else 0
            return Answer(query, response.status_code, time.perf_counter() - started, rows)

        return await asyncio.gather(*(search(query) for query in queries))


def run_searches(base: str, database: str, queries: list[str]) -> tuple[list[Answer], float]:
    started = time.perf_counter()
    answers = asyncio.run(fire_searches(base, database, queries))
    return answers, time.perf_counter() - started


def latency_summary(answers: list[Answer], wall_seconds: float) -> dict:
    latencies = sorted(answer.seconds * 1000 for answer in answers)
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return {
        "requests": len(answers),
        "ok": sum(answer.status == 200 for answer in answers),
        "p50_ms": round(cuts[49], 1),
        "p95_ms": round(cuts[94], 1),
        "max_ms": round(latencies[-1], 1),
        "wall_s": round(wall_seconds, 2),
        "requests_per_s": round(len(answers) / wall_seconds, 1),
    }
