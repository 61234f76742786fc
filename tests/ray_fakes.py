"""A scripted fake model for the Ray tests, sent to Ray workers by value (the workers
cannot import the tests package).

Each Ray worker is a separate process, so the fake is steered through environment
variables, which Ray's processes inherit from the driver that started them:

- ``FAKE_LOG``: a file; every transcription appends ``start|done <pid> <seconds>``;
- ``FAKE_DELAY``: seconds each transcription takes (so a test can act mid-episode);
- ``FAKE_CRASH_SECONDS``: an episode of this length kills its worker process, every time.
"""

from __future__ import annotations

import os
import signal
import time

from pipeline.records import Segment, Transcript, Word


def log_attempt(event: str, seconds: float) -> None:
    with open(os.environ["FAKE_LOG"], "a", encoding="utf-8") as log:
        log.write(f"{event} {os.getpid()} {seconds:.1f}\n")


def read_attempts(path) -> list[tuple[str, int, float]]:
    """(event, pid, episode seconds) for each line of a ``FAKE_LOG`` file."""
    with open(path, encoding="utf-8") as log:
        return [(e, int(pid), float(s)) for e, pid, s in (line.split() for line in log)]


class ScriptedTranscriber:
    def __init__(self, *args, **kwargs):
        self.name = kwargs.get("model", "fake")

    def transcribe(self, samples, *, language=None, batch_size=0, on_progress=None, offset=0.0):
        seconds = len(samples) / 16000
        log_attempt("start", seconds)
        if f"{seconds:.1f}" == os.environ.get("FAKE_CRASH_SECONDS"):
            os.kill(os.getpid(), signal.SIGKILL)
        time.sleep(float(os.environ.get("FAKE_DELAY", "0")))
        segments = [
            Segment(t, t + 1.0, f"word{t} said.", [Word(t, t + 1.0, f" word{t}", 0.9)], -0.2, 0.01)
            for t in range(int(seconds) - 1)
        ]
        log_attempt("done", seconds)
        return Transcript(segments, "en", seconds, self.name, elapsed=0.01)
