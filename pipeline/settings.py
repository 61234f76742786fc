"""The transcription settings that ingest, feed and the Ray workers share.

One frozen, picklable value instead of long parameter lists: it travels to a worker
on another machine unchanged, and its ``fingerprint`` tells whether a checkpoint was
made with the same settings (a resumed run must cut and decode the audio the same way).
"""

from __future__ import annotations

import dataclasses
import json

DEFAULT_MODEL = "tiny.en"
# Measured by benchmarks/ingest.py: batching is faster on two CPU cores at the same
# word error rate on the corpus (see README, "Speed").
DEFAULT_BATCH_SIZE = 8
# Five minutes of audio per chunk: memory stays flat whatever the episode's length,
# and a killed ingest loses at most this much work.
DEFAULT_CHUNK_SECONDS = 300.0


@dataclasses.dataclass(frozen=True)
class TranscriptionSettings:
    model: str = DEFAULT_MODEL
    device: str = "auto"  # auto, cpu or cuda
    compute_type: str = "auto"  # auto: int8 on CPU, float16 on CUDA
    language: str | None = None  # None: detect ('en' for .en models)
    batch_size: int = DEFAULT_BATCH_SIZE  # 0 or 1: sequential decoding
    chunk_seconds: float = DEFAULT_CHUNK_SECONDS
    cpu_threads: int = 0  # 0: CTranslate2's default

    def fingerprint(self) -> str:
        """What must match for a checkpoint to be reused (not the device's thread count)."""
        fields = dataclasses.asdict(self)
        fields.pop("cpu_threads")
        return json.dumps(fields, sort_keys=True)
