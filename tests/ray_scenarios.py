"""Ray runs for tests/test_backlog.py, each started in a network namespace of its own
(``tests.ray_run.in_namespace``) so that Ray only ever talks over loopback.

    python -m tests.ray_scenarios faults FOLDER      # JSON on stdout
    python -m tests.ray_scenarios two-nodes FOLDER   # JSON on stdout
    python -m tests.ray_scenarios feed FOLDER        # the archive command on a loopback feed
    python -m tests.ray_scenarios archive ARGS...    # the archive command, fake model

The fake model is ``tests.ray_fakes.ScriptedTranscriber``, sent to the workers by value.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

import numpy as np
import ray.cloudpickle

from pipeline.backlog import BacklogCallbacks, BacklogSettings, FileJob, run_backlog
from pipeline.ingest import EpisodeRequest

from . import ray_fakes
from .audio_tools import write_wav
from .ray_fakes import ScriptedTranscriber, read_attempts

ray.cloudpickle.register_pickle_by_value(ray_fakes)


def tone_files(folder: Path, seconds: list[float]) -> list[Path]:
    """One distinct WAV per length (the fake model tells episodes apart by length)."""
    paths = []
    for length in seconds:
        t = np.arange(int(length * 16000)) / 16000
        paths.append(write_wav(folder / f"tone-{length:g}s.wav", 0.1 * np.sin(440 * t)))
    return paths


def run_files(paths: list[Path], settings: BacklogSettings) -> dict:
    stored, failures = [], []
    callbacks = BacklogCallbacks(
        store=lambda episode: stored.append(episode.title),
        on_stored=lambda episode: None,
        on_failed=lambda label, message: failures.append(message),
        warn=lambda message: None,
    )
    jobs = [FileJob.for_request(EpisodeRequest(str(path), None)) for path in paths]
    status = run_backlog(jobs, settings, callbacks)
    return {
        "stored": sorted(stored),
        "failures": failures,
        "workers": status.workers,
        "episodes_per_node": dict(status.episodes_per_node),
        "peak_mib": max(status.peak_mib_per_worker.values(), default=0),
    }


def kill_once_when_started(log: Path, seconds: float) -> threading.Thread:
    """SIGKILL the worker process the first time it starts on the episode this long."""

    def watch():
        while True:
            if log.exists():
                for event, pid, length in read_attempts(log):
                    if event == "start" and length == seconds:
                        os.kill(pid, signal.SIGKILL)
                        return
            time.sleep(0.05)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def faults(folder: Path) -> dict:
    """Four episodes on a local Ray of 2 CPUs (two workers): one worker killed
    mid-episode, one episode that kills its worker every time it is tried."""
    os.environ.update(FAKE_LOG=str(folder / "attempts.log"), FAKE_DELAY="1.5")
    os.environ["FAKE_CRASH_SECONDS"] = "7.0"
    paths = tone_files(folder, [3, 5, 7, 4])
    kill_once_when_started(folder / "attempts.log", 5.0)
    settings = BacklogSettings("local", local_cpus=2, transcriber_class=ScriptedTranscriber)
    return run_files(paths, settings) | {"attempts": read_attempts(folder / "attempts.log")}


def two_nodes(folder: Path) -> dict:
    """A head and a second node of one CPU each on this machine: both must do work."""
    from ray.cluster_utils import Cluster

    os.environ.update(FAKE_LOG=str(folder / "attempts.log"), FAKE_DELAY="1")
    paths = tone_files(folder, [3, 4, 5, 6])
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    try:
        cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        settings = BacklogSettings(cluster.address, transcriber_class=ScriptedTranscriber)
        return run_files(paths, settings)
    finally:
        cluster.shutdown()


def run_archive(args: list[str]) -> None:
    """The real ``archive`` command with the fake model in place of faster-whisper."""
    import pipeline.cli

    settings_for = pipeline.cli.backlog_settings

    def two_cpus(*options):  # as on this project's machine, whatever the test machine has
        settings = settings_for(*options)
        if settings is not None:
            settings.local_cpus = 2
        return settings

    pipeline.cli.Transcriber = ScriptedTranscriber
    pipeline.cli.backlog_settings = two_cpus
    pipeline.cli.cli.main(args, prog_name="archive")


def feed(folder: Path) -> None:
    """``archive feed --ray`` on a loopback feed: one good item, one missing enclosure.
    This process cannot download enclosures, so any that arrives was fetched by a worker."""
    import pipeline.feed_episode

    from .http_server import FileServer

    def no_download_here(*args, **kwargs):
        raise AssertionError("the driver downloaded an enclosure")

    pipeline.feed_episode.download_enclosure = no_download_here
    os.environ["FAKE_LOG"] = str(folder / "attempts.log")
    [audio] = tone_files(folder, [6])
    server = FileServer().start()
    server.files["one.wav"] = audio.read_bytes()
    items = "".join(
        f"<item><title>{guid}</title><guid>{guid}</guid>"
        f'<enclosure url="{server.url(name)}" length="1" type="audio/wav"/></item>'
        for guid, name in [("item-one", "one.wav"), ("item-gone", "gone.wav")]
    )
    feed_xml = f'<rss version="2.0"><channel><title>Loop</title>{items}</channel></rss>'
    server.files["feed.xml"] = feed_xml.encode()
    database, cache = str(folder / "archive.db"), str(folder / "cache")
    try:
        run_archive(
            ["feed", server.url("feed.xml"), "--db", database, "--cache", cache, "--ray", "--json"]
        )
    finally:
        server.stop()


def main() -> None:
    scenario, *args = sys.argv[1:]
    if scenario == "archive":
        run_archive(args)
    elif scenario == "feed":
        feed(Path(args[0]))
    else:
        result = {"faults": faults, "two-nodes": two_nodes}[scenario](Path(args[0]))
        print(json.dumps(result))


if __name__ == "__main__":
    main()
