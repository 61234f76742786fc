"""Many episodes on Ray: workers transcribe, this process aligns and stores them.

Transcription is the slow, embarrassingly parallel part, so it runs in Ray actors, one
episode at a time each, each with the model loaded once. Storing stays in this process,
one transaction per episode, as soon as each transcript comes back: SQLite has one writer.

A local file travels to its worker through Ray's object store and a feed item is
downloaded by its worker, so workers on other machines need no shared disk. A worker
process that dies mid-episode is restarted by Ray and the episode tried again, up to
``MAX_ATTEMPTS`` times in all; after that the episode is reported and skipped.

Only this module imports ray, and only when a backlog runs.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import logging
import os
import resource
import socket
import sys
import tempfile
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .audio import AudioError, file_sha256
from .download import DownloadError, default_cache_dir, http_client
from .feed import FeedItem
from .feed_episode import feed_item_request
from .ingest import (
    EpisodeRequest,
    StrictOutlineError,
    TranscribedEpisode,
    align_transcribed,
    episode_id_for,
    transcribe_episode,
)
from .outline import OutlineError
from .records import AlignedEpisode
from .settings import TranscriptionSettings
from .transcribe import TranscribeError, Transcriber

LOCAL = "local"  # start Ray on this machine for this run
MAX_ATTEMPTS = 3  # tries per episode when its worker process dies (Ray's task retries)
CONNECT_TIMEOUT = 5.0  # seconds to wait for a cluster's port to answer
WORKER_FAILURES = (AudioError, OutlineError, StrictOutlineError, TranscribeError, DownloadError)

logger = logging.getLogger(__name__)


class BacklogError(Exception):
    """Ray cannot be used (no cluster at the address, a malformed address); one line."""


class BacklogInterrupted(Exception):
    """Ctrl-C: the run stopped; what was stored is kept, ``status`` says how far it got."""

    def __init__(self, status: BacklogStatus):
        super().__init__("interrupted")
        self.status = status


@dataclass
class BacklogSettings:
    """How to reach Ray and what each worker loads."""

    address: str = LOCAL  # 'local', 'auto', 'HOST:PORT' or 'ray://HOST:PORT'
    # How every worker transcribes: the same settings a plain ingest uses.
    transcription: TranscriptionSettings = field(default_factory=TranscriptionSettings)
    cpus_per_worker: int = 1
    local_cpus: int | None = None  # --ray local: CPUs Ray may use (None: all of them)
    transcriber_class: type = Transcriber  # tests pass a fake model here

    @property
    def model(self) -> str:
        return self.transcription.model

    @property
    def device(self) -> str:
        return self.transcription.device


@dataclass
class FileJob:
    """A local audio file; its bytes go to the worker through the object store."""

    request: EpisodeRequest
    resolved_path: str  # what the archive records as audio_path, as plain ingest does
    sha256: str

    @classmethod
    def for_request(cls, request: EpisodeRequest) -> FileJob:
        path = Path(request.audio_path)
        if not path.is_file():
            raise AudioError(f"{path}: no such file")
        try:
            return cls(request, str(path.resolve()), file_sha256(path))
        except OSError as ex:
            raise AudioError(f"{path}: cannot read ({ex.strerror})") from None

    @property
    def label(self) -> str:
        return self.request.audio_path

    @property
    def episode_id(self) -> str:
        return self.request.episode_id or episode_id_for(self.sha256)


@dataclass
class FeedJob:
    """A feed item, downloaded by the worker that transcribes it."""

    item: FeedItem
    cache_dir: str | None  # None: the worker's default cache
    use_publisher_transcript: bool
    options: dict  # strict: as feed_item_request takes it

    @property
    def label(self) -> str:
        return self.item.guid

    @property
    def episode_id(self) -> str:
        return self.item.guid


Job = FileJob | FeedJob


@dataclass
class WorkerResult:
    """What a worker sends back for one episode: the transcript, or why there is none."""

    transcribed: TranscribedEpisode | None
    error: str | None
    warnings: list[str]
    node_id: str
    pid: int
    peak_mib: float  # the worker process's peak resident memory so far


@dataclass
class BacklogStatus:
    """The whole run so far, for the progress display and the closing summary."""

    total: int
    workers: int = 0
    done: int = 0
    failed: int = 0
    audio_seconds: float = 0.0
    writer_seconds: float = 0.0  # spent aligning and storing: the one writer's load
    started: float = field(default_factory=time.monotonic)
    episodes_per_node: Counter = field(default_factory=Counter)
    peak_mib_per_worker: dict[int, float] = field(default_factory=dict)

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    @property
    def real_time_factor(self) -> float:
        return self.audio_seconds / self.elapsed if self.elapsed else 0.0

    @property
    def seconds_left(self) -> float | None:
        finished = self.done + self.failed
        if not finished:
            return None
        return self.elapsed / finished * (self.total - finished)


@dataclass
class BacklogCallbacks:
    """What the caller does with each outcome; the same as its plain, one-by-one loop."""

    store: Callable[[AlignedEpisode], None]
    on_stored: Callable[[AlignedEpisode], None]
    on_failed: Callable[[str, str], None]  # (job label, one-line reason)
    warn: Callable[[str], None]
    on_progress: Callable[[BacklogStatus], None] = lambda status: None


def check_address(address: str) -> str:
    """The address as given, or a one-line error saying which forms are understood."""
    if address in (LOCAL, "auto") or address.startswith("ray://"):
        return address
    host, _, port = address.rpartition(":")
    if host and port.isdigit():
        return address
    raise BacklogError(
        f"--ray {address!r}: not a Ray address; give 'local', 'auto', HOST:PORT or "
        "ray://HOST:PORT (put --ray after the audio files, or write --ray local)"
    )


def run_backlog(
    jobs: list[Job], settings: BacklogSettings, callbacks: BacklogCallbacks
) -> BacklogStatus:
    """Transcribe ``jobs`` on Ray and store each as it arrives; the final status."""
    # Ray prints its workers' and raylets' messages to stdout; stdout is for data here.
    with contextlib.redirect_stdout(sys.stderr):
        ray = _connect(settings.address, settings.local_cpus)
        status = BacklogStatus(total=len(jobs))
        try:
            _drive(ray, deque(jobs), settings, callbacks, status)
        except KeyboardInterrupt:
            raise BacklogInterrupted(status) from None
        finally:
            ray.shutdown()  # ends this run's actors; a local Ray stops with it
    return status


def _connect(address: str, local_cpus: int | None = None):
    address = check_address(address)
    if address.startswith("ray://") and importlib.util.find_spec("grpc") is None:
        raise BacklogError(
            f"--ray {address}: Ray Client addresses need pip install 'ray[client]'; "
            "or run archive on the head node with --ray auto"
        )
    if address not in (LOCAL, "auto"):
        _check_reachable(address)
    try:
        import ray
    except ImportError as ex:
        raise BacklogError(f"--ray needs the ray package ({ex})") from None
    # Errors only: Ray warns at every start about settings that are not ours to change.
    options = {"logging_level": logging.ERROR, "log_to_driver": False}
    if address == LOCAL:
        options.update(include_dashboard=False, num_cpus=local_cpus)
    try:
        ray.init(address=address, **options)
    except Exception as ex:  # ConnectionError, RuntimeError, ValueError: all one line here
        raise BacklogError(f"cannot use the Ray cluster at {address}: {_one_line(ex)}") from None
    return ray


def _check_reachable(address: str) -> None:
    """Fail in seconds, not minutes: ray.init retries an unreachable cluster for long."""
    host_port = address.removeprefix("ray://")
    host, _, port = host_port.rpartition(":")
    try:
        socket.create_connection((host.strip("[]"), int(port)), CONNECT_TIMEOUT).close()
    except OSError as ex:
        reason = ex.strerror or str(ex) or type(ex).__name__  # a timeout has no strerror
        raise BacklogError(f"cannot reach the Ray cluster at {address}: {reason}") from None


def _drive(ray, pending: deque, settings, callbacks: BacklogCallbacks, status) -> None:
    """Keep every worker busy with one episode; align and store each as it returns."""
    make_worker = _worker_factory(ray, settings)
    idle = [make_worker() for _ in range(_worker_count(ray, settings, len(pending)))]
    status.workers = len(idle)
    callbacks.on_progress(status)
    in_flight = {}
    while pending or in_flight:
        while idle and pending:
            job = pending.popleft()
            worker = idle.pop()
            try:
                in_flight[_submit(ray, worker, job)] = (job, worker)
            except OSError as ex:
                idle.append(worker)
                _failed(callbacks, status, job, f"{job.label}: cannot read ({ex.strerror})")
        if not in_flight:
            continue
        [ready], _ = ray.wait(list(in_flight), num_returns=1)
        job, worker = in_flight.pop(ready)
        if not _collect(ray, ready, job, callbacks, status):
            ray.kill(worker)  # out of restarts, or about to be: a fresh one takes its place
            worker = make_worker()
        idle.append(worker)
        callbacks.on_progress(status)


def _worker_factory(ray, settings: BacklogSettings):
    gpus = 1 if _wants_gpu(ray, settings.device) else 0
    remote = ray.remote(EpisodeWorker).options(
        num_cpus=settings.cpus_per_worker,
        num_gpus=gpus,
        max_restarts=MAX_ATTEMPTS - 1,
        max_task_retries=MAX_ATTEMPTS - 1,
        # One actor per node first, so that a small backlog still uses every machine.
        scheduling_strategy="SPREAD",
    )
    return lambda: remote.remote(settings)


def _wants_gpu(ray, device: str) -> bool:
    """--device cuda asks Ray for a GPU per worker; auto does when the cluster has any."""
    if device == "cuda":
        return True
    return device == "auto" and ray.cluster_resources().get("GPU", 0) >= 1


def _worker_count(ray, settings: BacklogSettings, jobs: int) -> int:
    resources = ray.cluster_resources()
    if _wants_gpu(ray, settings.device):
        slots = int(resources.get("GPU", 0))
    else:
        slots = int(resources.get("CPU", 0) // settings.cpus_per_worker)
    if slots < 1:
        needs = "a GPU" if _wants_gpu(ray, settings.device) else f"{settings.cpus_per_worker} CPUs"
        raise BacklogError(f"the Ray cluster has no room for a worker ({needs} each)")
    return max(1, min(slots, jobs))


def _submit(ray, worker, job: Job):
    if isinstance(job, FileJob):
        audio = ray.put(Path(job.request.audio_path).read_bytes())
        return worker.transcribe_file.remote(job.request, job.resolved_path, audio)
    return worker.transcribe_feed_item.remote(job)


def _collect(ray, ref, job: Job, callbacks: BacklogCallbacks, status: BacklogStatus) -> bool:
    """Align and store one returned episode; False when its worker died for good."""
    try:
        result: WorkerResult = ray.get(ref)
    except ray.exceptions.RayActorError as ex:
        reason = f"its worker died {MAX_ATTEMPTS} times ({_actor_death(ex)}); skipped"
        _failed(callbacks, status, job, f"{job.label}: {reason}")
        return False
    except ray.exceptions.RayTaskError as ex:  # a bug, not bad input: still one line
        _failed(callbacks, status, job, f"{job.label}: worker error: {_one_line(ex.cause)}")
        return True
    except ray.exceptions.RayError as ex:  # out of memory, a lost object: Ray's own trouble
        _failed(callbacks, status, job, f"{job.label}: {_actor_death(ex)}; skipped")
        return False
    status.episodes_per_node[result.node_id] += 1
    status.peak_mib_per_worker[result.pid] = result.peak_mib
    for warning in result.warnings:
        callbacks.warn(warning)
    if result.error is not None:
        _failed(callbacks, status, job, result.error)
        return True
    writing = time.monotonic()
    try:
        episode = align_transcribed(result.transcribed, warn=callbacks.warn)
        callbacks.store(episode)
    except Exception as ex:  # the store's own errors (a full disk): reported, run goes on
        _failed(callbacks, status, job, f"{job.label}: {_one_line(ex)}")
        return True
    finally:
        status.writer_seconds += time.monotonic() - writing
    status.done += 1
    status.audio_seconds += episode.audio.duration
    callbacks.on_stored(episode)
    return True


def _failed(callbacks: BacklogCallbacks, status: BacklogStatus, job: Job, message: str):
    status.failed += 1
    callbacks.on_failed(job.label, message)


def _actor_death(ex: Exception) -> str:
    text = _one_line(ex)
    return text if len(text) <= 120 else text[:117] + "..."


class EpisodeWorker:
    """A Ray actor: the model loaded once, then whole episodes, one at a time."""

    def __init__(self, settings: BacklogSettings):
        self.settings = settings
        self._transcriber = None

    def transcriber(self) -> Transcriber:
        if self._transcriber is None:
            settings = self.settings
            self._transcriber = settings.transcriber_class(
                model=settings.transcription.model,
                device=settings.transcription.device,
                compute_type=settings.transcription.compute_type,
                cpu_threads=settings.cpus_per_worker,
            )
        return self._transcriber

    def transcribe_file(self, request: EpisodeRequest, resolved_path: str, audio: bytes):
        """Transcribe a file sent as bytes: written to a private folder for the decoder."""
        with tempfile.TemporaryDirectory(prefix="archive-ray-") as folder:
            local = Path(folder) / Path(request.audio_path).name
            local.write_bytes(audio)
            del audio
            result = self._transcribe(dataclasses.replace(request, audio_path=str(local)))
        # Messages and the stored record name the driver's file, not the worker's copy.
        result.warnings = [w.replace(str(local), request.audio_path) for w in result.warnings]
        if result.error:
            result.error = result.error.replace(str(local), request.audio_path)
        if result.transcribed is not None:
            result.transcribed.request = request
            result.transcribed.audio.path = resolved_path
        return result

    def transcribe_feed_item(self, job: FeedJob):
        """Download the item (into this machine's cache), then transcribe it."""
        warnings: list[str] = []
        cache = Path(job.cache_dir) if job.cache_dir else default_cache_dir()
        try:
            with http_client() as client:
                request = feed_item_request(
                    job.item,
                    client,
                    cache,
                    use_publisher_transcript=job.use_publisher_transcript,
                    warn=warnings.append,
                    **job.options,
                )
        except WORKER_FAILURES as ex:
            return self._result(None, f"{job.item.guid}: {ex}", warnings)
        result = self._transcribe(request)
        result.warnings[:0] = warnings
        if result.error:
            result.error = f"{job.item.guid}: {result.error}"
        return result

    def _transcribe(self, request: EpisodeRequest) -> WorkerResult:
        warnings: list[str] = []
        try:
            transcribed = transcribe_episode(
                request, self.settings.transcription, self.transcriber, warn=warnings.append
            )
        except WORKER_FAILURES as ex:
            return self._result(None, str(ex), warnings)
        return self._result(transcribed, None, warnings)

    def _result(self, transcribed, error, warnings) -> WorkerResult:
        import ray

        return WorkerResult(
            transcribed=transcribed,
            error=error,
            warnings=warnings,
            node_id=ray.get_runtime_context().get_node_id(),
            pid=os.getpid(),
            peak_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        )


def _one_line(ex: BaseException | None) -> str:
    text = str(ex).strip() if ex is not None else ""
    return (text or type(ex).__name__).splitlines()[0]
