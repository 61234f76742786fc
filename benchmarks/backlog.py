"""A backlog on Ray versus plain sequential ingest, printed as JSON on stdout.

    make benchmark-backlog      # or: python benchmarks/backlog.py (as root, for unshare)

Twelve distinct episodes are made from the corpus clips (each clip behind a different
length of lead-in silence, so no two files share a hash). In the same run, each path
in a fresh process, on the same files, with the bundled model and default settings:

1. plain ``archive ingest`` of the twelve files, one after another;
2. the same backlog on a local Ray (one worker per CPU), aligned and stored by the
   driver exactly as ``archive ingest --ray local`` does;
3. the same backlog on a two-node Ray cluster on this machine (``ray.cluster_utils``,
   one CPU per node), to show both nodes doing work.

It reports wall time, throughput (audio seconds per wall second), the Ray/plain ratio,
peak memory (plain process; each Ray worker), which episodes the Ray archives hold with
exactly the plain archive's segments and words, and the episodes each node transcribed; then the
one writer's cost (align and store) per synthetic hour-long episode.

The control is a second plain ingest of the same files in reverse order. Where decoding
falls back to sampling at a higher temperature (the noisy Apollo radio clip), the draw
depends on what the process decoded before: CTranslate2 keeps one random stream per
thread and takes no seed per call. Episodes that differ between the two plain runs can
differ between plain and Ray for the same reason; the others must be identical.

Ray binds to the machine's network address, so the Ray runs start in a network
namespace of their own (``unshare -n``, as root) where only loopback exists.
"""

from __future__ import annotations

import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CORPUS = ROOT.parent / "shared" / "corpus"
SEED = ROOT.parent / "shared" / "seeds" / "000_38943d2e2b459189.txt"
CLIPS = ["jfk.flac", "sonnet-p001.mp3", "sonnet-p002.mp3", "sonnet-p003.mp3", "apollo11.mp3"]
EPISODES = 12
COMPARED = {
    "segments": "select position, start, end, text from segments where episode_id = ? "
    "order by position",
    "words": "select position, start, end, word, probability from words where episode_id = ? "
    "order by segment_id, position",
}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def make_episodes(folder: Path) -> tuple[list[Path], float]:
    """Twelve WAV episodes cycling through the clips; their total length in seconds."""
    import numpy as np

    from pipeline.audio import SAMPLE_RATE, read_audio
    from tests.audio_tools import write_wav

    paths, total = [], 0.0
    for number in range(EPISODES):
        clip = CLIPS[number % len(CLIPS)]
        _, samples = read_audio(CORPUS / clip)
        lead_in = np.zeros(int((0.5 + 0.25 * number) * SAMPLE_RATE), dtype=np.float32)
        episode = np.concatenate([lead_in, samples])
        paths.append(write_wav(folder / f"episode-{number:02d}-{Path(clip).stem}.wav", episode))
        total += len(episode) / SAMPLE_RATE
    return paths, total


def plain_ingest(paths: list[Path], db: Path) -> dict:
    archive = str(Path(sys.executable).with_name("archive"))
    wrapped = [sys.executable, "-c", _PEAK_WRAPPER, archive, "ingest", *map(str, paths)]
    started = time.perf_counter()
    result = subprocess.run(
        [*wrapped, "--db", str(db), "-q"], capture_output=True, text=True, check=True
    )
    seconds = time.perf_counter() - started
    peak_kib = int(result.stderr.strip().splitlines()[-1])
    return {"seconds": round(seconds, 2), "peak_mib": round(peak_kib / 1024, 1)}


# Runs the command as its own child and reports that child's peak RSS (KiB) on stderr.
_PEAK_WRAPPER = """
import resource, subprocess, sys
subprocess.run(sys.argv[1:], check=True, stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)
"""


def ray_ingest(mode: str, paths: list[Path], db: Path) -> dict:
    """Run this file's ``--ray-driver`` in a network namespace; its JSON figures."""
    command = [sys.executable, __file__, "--ray-driver", mode, str(db), *map(str, paths)]
    started = time.perf_counter()
    result = subprocess.run(
        ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$@"', "sh", *command],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        failed_log = Path(tempfile.gettempdir()) / f"backlog-{mode}-failed.log"
        failed_log.write_text(result.stderr)
        raise SystemExit(f"the {mode} Ray run failed; its stderr is in {failed_log}")
    figures = json.loads(result.stdout)
    figures["seconds"] = round(time.perf_counter() - started, 2)
    return figures


def ray_driver(mode: str, db_path: str, paths: list[str]) -> None:
    """Inside the namespace: the backlog as ``archive ingest --ray`` runs it."""
    from db.schema import open_archive
    from db.store import store_episode
    from pipeline.backlog import BacklogCallbacks, BacklogSettings, FileJob, run_backlog
    from pipeline.ingest import EpisodeRequest

    db = open_archive(db_path)
    cluster = None
    address = "local"
    if mode == "two-nodes":
        from ray.cluster_utils import Cluster

        cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
        cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        address = cluster.address
    failures = []
    callbacks = BacklogCallbacks(
        store=lambda episode: store_episode(db, episode),
        on_stored=lambda episode: None,
        on_failed=lambda label, message: failures.append(message),
        warn=lambda message: None,
    )
    jobs = [FileJob.for_request(EpisodeRequest(path, None)) for path in paths]
    try:
        status = run_backlog(jobs, BacklogSettings(address), callbacks)
    finally:
        if cluster is not None:
            cluster.shutdown()
    peaks = sorted(status.peak_mib_per_worker.values())
    print(
        json.dumps(
            {
                "workers": status.workers,
                "stored": status.done,
                "failures": failures,
                "backlog_seconds": round(status.elapsed, 2),
                "writer_seconds": round(status.writer_seconds, 2),
                "worker_peak_mib": [round(peak, 1) for peak in peaks],
                "driver_peak_mib": round(
                    resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
                ),
                "episodes_per_node": sorted(status.episodes_per_node.values(), reverse=True),
            }
        )
    )


def compare_archives(db_a: Path, db_b: Path) -> dict:
    """Which episodes two archives hold identically (same segments and words)."""
    differing, total = [], 0
    titles = dict(sqlite3.connect(db_a).execute("select id, title from episodes"))
    for episode_id, title in sorted(titles.items()):
        total += 1
        for sql in COMPARED.values():
            rows = [
                sqlite3.connect(db).execute(sql, [episode_id]).fetchall() for db in (db_a, db_b)
            ]
            if rows[0] != rows[1]:
                differing.append(title)
                break
    return {"identical_episodes": total - len(differing), "differing": differing}


def writer_figures(folder: Path, episodes: int = 3) -> dict:
    """The one writer's cost per hour-long episode: align and store, as the driver does,
    synthetic transcripts of an hour (9,000 words, 150 a minute) under the seed page's 35
    chapters, each heading spoken at its stated time (the most work for alignment)."""
    from db.schema import open_archive
    from db.store import store_episode
    from pipeline.align import plan_chapters
    from pipeline.ingest import EpisodeRequest, TranscribedEpisode, align_transcribed
    from pipeline.outline import read_notes
    from pipeline.records import AudioInfo, Segment, Transcript, Word

    outline = read_notes(SEED)
    headings = {int(entry.start // 6) * 6: entry.title.split() for entry in outline.entries}
    filler = "so we talked about what the archive keeps and why it matters to listeners".split()
    db = open_archive(str(folder / "writer.db"))
    align_times, store_times = [], []
    for number in range(episodes):
        segments = []
        for start in range(0, 3600, 6):  # 600 segments of 15 words, 0.4 s each
            said = (headings.get(start, []) + filler)[:15]
            words = [Word(start + i * 0.4, start + i * 0.4 + 0.3, " " + w, 0.9)
                     for i, w in enumerate(said)]
            segments.append(Segment(start, start + 6.0, " ".join(said), words, -0.2, 0.01))
        audio = AudioInfo(f"/synthetic/{number}.mp3", f"{number:064x}", 3600.0, 3600.0)
        chapters, _ = plan_chapters(outline, 3600.0, opening_title=f"synthetic {number}")
        transcribed = TranscribedEpisode(
            EpisodeRequest(audio.path, outline), audio, outline, f"synthetic {number}",
            chapters, Transcript(segments, "en", 3600.0, "synthetic"), [],
        )
        started = time.perf_counter()
        episode = align_transcribed(transcribed, warn=lambda message: None)
        aligned = time.perf_counter()
        store_episode(db, episode)
        align_times.append(aligned - started)
        store_times.append(time.perf_counter() - aligned)
    return {
        "hour_long_episodes": episodes,
        "words_each": sum(len(s.words) for s in segments),
        "align_seconds_median": round(sorted(align_times)[episodes // 2], 3),
        "store_seconds_median": round(sorted(store_times)[episodes // 2], 3),
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        paths, audio_seconds = make_episodes(folder)
        log(f"{EPISODES} episodes, {audio_seconds:.0f} s of audio: plain sequential ingest")
        plain = plain_ingest(paths, folder / "plain.db")
        log("plain sequential ingest again, in reverse order (the control)")
        control = plain_ingest(paths[::-1], folder / "plain-reversed.db")
        log("local Ray")
        local = ray_ingest("local", paths, folder / "ray.db")
        log("two-node Ray cluster on this machine")
        two_nodes = ray_ingest("two-nodes", paths, folder / "cluster.db")
        for figures in (plain, control, local, two_nodes):
            figures["audio_seconds_per_second"] = round(audio_seconds / figures["seconds"], 2)
        plain_db = folder / "plain.db"
        report = {
            "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
            "episodes": EPISODES,
            "audio_seconds": round(audio_seconds, 1),
            "plain_sequential_ingest": plain,
            "plain_reversed_order": control
            | compare_archives(plain_db, folder / "plain-reversed.db"),
            "local_ray": local | compare_archives(plain_db, folder / "ray.db"),
            "two_node_ray": two_nodes | compare_archives(plain_db, folder / "cluster.db"),
            "throughput_ratio_local_ray_over_plain": round(plain["seconds"] / local["seconds"], 2),
            "throughput_ratio_two_nodes_over_plain": round(
                plain["seconds"] / two_nodes["seconds"], 2
            ),
            "writer_per_hour_long_episode": writer_figures(folder),
        }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--ray-driver"]:
        ray_driver(sys.argv[2], sys.argv[3], sys.argv[4:])
    else:
        main()
