"""`--ray`: transcription on Ray workers, one writer. Every Ray run here is real (local
Ray, or a two-node cluster on this machine) and starts in a network namespace of its
own (tests/ray_run.py). The fake model (tests/ray_fakes.py) keeps the fault tests fast;
one test runs the real model and compares with a plain ingest."""

import json
import os
import signal
import sqlite3

import pytest

from .conftest import CORPUS
from .ray_fakes import read_attempts
from .ray_run import ARCHIVE, PYTHON, assert_none_left, run, start

SCENARIOS = [PYTHON, "-m", "tests.ray_scenarios"]


def rows(db_path, sql):
    with sqlite3.connect(db_path) as db:
        return db.execute(sql).fetchall()


def test_a_file_name_after_ray_is_refused_before_anything_runs(run_cli, db_path):
    result = run_cli("ingest", "--ray", CORPUS / "jfk.flac", CORPUS / "sonnet-p001.mp3")
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"Error: --ray '{CORPUS / 'jfk.flac'}': not a Ray address; give 'local', 'auto', "
        "HOST:PORT or ray://HOST:PORT (put --ray after the audio files, or write --ray local)"
    ]
    assert not os.path.exists(db_path)


def test_a_cluster_that_cannot_be_reached_is_one_line(run_cli, db_path):
    # Nothing listens on port 1; the check fails before Ray is even imported.
    result = run_cli("ingest", CORPUS / "jfk.flac", "--ray", "127.0.0.1:1")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "Error: cannot reach the Ray cluster at 127.0.0.1:1: Connection refused"
    ]
    assert rows(db_path, "select count(*) from episodes") == [(0,)]


def test_a_killed_worker_is_retried_and_an_episode_that_keeps_failing_is_skipped(tmp_path):
    result = run([*SCENARIOS, "faults", tmp_path])
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout)
    attempts = [tuple(attempt) for attempt in outcome["attempts"]]
    starts = {
        seconds: [pid for event, pid, s in attempts if event == "start" and s == seconds]
        for seconds in (3.0, 4.0, 5.0, 7.0)
    }
    # Killed once mid-episode: tried again in a restarted worker (a new process), stored.
    assert len(starts[5.0]) == 2 and starts[5.0][0] != starts[5.0][1]
    assert ("done", starts[5.0][1], 5.0) in attempts
    # Kills its worker every time: tried three times in all, reported, skipped.
    assert len(starts[7.0]) == 3
    assert outcome["failures"] == [
        f"{tmp_path / 'tone-7s.wav'}: its worker died 3 times "
        "(The actor died unexpectedly before finishing this task.); skipped"
    ]
    # The others were each transcribed once and stored, by the two workers.
    assert len(starts[3.0]) == len(starts[4.0]) == 1
    assert outcome["stored"] == ["tone-3s", "tone-4s", "tone-5s"]
    assert outcome["workers"] == 2


def test_a_two_node_cluster_shares_the_work(tmp_path):
    result = run([*SCENARIOS, "two-nodes", tmp_path])
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout)
    assert outcome["stored"] == ["tone-3s", "tone-4s", "tone-5s", "tone-6s"]
    assert outcome["workers"] == 2
    per_node = outcome["episodes_per_node"]
    assert len(per_node) == 2 and all(count >= 1 for count in per_node.values())
    assert sum(per_node.values()) == 4


def tone_files(folder, lengths):
    from .ray_scenarios import tone_files as write

    return [str(path) for path in write(folder, lengths)]


def test_ctrl_c_stops_cleanly_and_a_rerun_does_only_the_rest(tmp_path):
    files = tone_files(tmp_path, [3, 4, 5, 6, 8])
    db_path, log = tmp_path / "archive.db", tmp_path / "attempts.log"
    command = [*SCENARIOS, "archive", "ingest", *files, "--db", db_path, "--ray"]
    env = {"FAKE_LOG": str(log), "FAKE_DELAY": "2"}
    process, marker = start(command, **env)
    for line in process.stderr:  # Ctrl-C, as a terminal sends it, once one is stored
        if line.startswith("stored sha256:"):
            os.killpg(process.pid, signal.SIGINT)
            break
    stdout, stderr = process.communicate(timeout=60)
    assert_none_left(marker)
    assert process.returncode == 130, stderr
    [interrupted] = [line for line in stderr.splitlines() if line.startswith("Error:")]
    first_run = [title for (title,) in rows(db_path, "select title from episodes")]
    assert 1 <= len(first_run) < 5
    assert interrupted.startswith(f"Error: interrupted: {len(first_run)} episode")
    assert interrupted.endswith("run the same command again to do the rest")
    assert rows(db_path, "pragma integrity_check") == [("ok",)]

    log.unlink()
    again = run(command, **env)
    assert again.returncode == 0, again.stderr
    assert f"{len(first_run)} file" in again.stderr and "already stored" in again.stderr
    assert len(again.stdout.split()) == 5 - len(first_run)
    assert rows(db_path, "select count(*) from episodes") == [(5,)]
    redone = {f"tone-{seconds:g}s" for event, _, seconds in read_attempts(log)}
    assert redone.isdisjoint(first_run)


def test_feed_items_are_downloaded_and_transcribed_by_the_workers(tmp_path):
    result = run([*SCENARIOS, "feed", tmp_path])
    assert result.returncode == 1
    assert json.loads(result.stdout) == [
        {"id": "item-one", "title": "item-one", "duration": 6.0, "chapters": 1, "segments": 5}
    ]
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert errors[0].startswith("Error: item-gone: http://127.0.0.1:")
    assert errors[0].endswith("/gone.wav: HTTP 404 Not Found")
    assert errors[1:] == ["Error: 1 of 2 episodes could not be ingested"]
    assert (tmp_path / "cache").is_dir() and len(list((tmp_path / "cache").iterdir())) == 1
    sql = "select audio_path, audio_url from episodes"
    [(audio_path, audio_url)] = rows(tmp_path / "archive.db", sql)
    assert audio_path.startswith(str(tmp_path / "cache")) and audio_url.endswith("/one.wav")


TABLES = {
    "episodes": "select id, title, audio_path, audio_sha256, duration, language, model, "
    "outline_source, outline_offset from episodes order by id",
    "chapters": "select episode_id, position, title, start, end, stated_start, confidence, text "
    "from chapters order by episode_id, position",
    "segments": "select episode_id, position, start, end, text, avg_logprob, no_speech_prob "
    "from segments order by episode_id, position",
    "words": "select episode_id, position, start, end, word, probability from words "
    "order by episode_id, segment_id, position",
}


@pytest.mark.slow
def test_ray_ingest_stores_what_plain_ingest_stores(tmp_path):
    files = [CORPUS / "jfk.flac", CORPUS / "sonnet-p001.mp3", CORPUS / "sonnet-p002.mp3"]
    plain_db, ray_db = tmp_path / "plain.db", tmp_path / "ray.db"
    plain = run([ARCHIVE, "ingest", *files, "--db", plain_db, "-q"])
    on_ray = run([ARCHIVE, "ingest", *files, "--db", ray_db, "--ray", "local", "--json"])
    assert plain.returncode == 0 and on_ray.returncode == 0, on_ray.stderr
    assert [entry["id"] for entry in json.loads(on_ray.stdout)] == plain.stdout.split()
    assert "stored 3 of 3 episodes: 1:57 of audio in" in on_ray.stderr
    for table, sql in TABLES.items():
        assert rows(ray_db, sql) == rows(plain_db, sql), table
    assert len(rows(ray_db, TABLES["words"])) > 200


def test_the_progress_line_counts_episodes_audio_throughput_and_time_left():
    from pipeline.backlog import BacklogStatus
    from pipeline.cli import describe_backlog

    status = BacklogStatus(total=8, workers=4, done=3, failed=1, audio_seconds=5400.0)
    status.started -= 600.0  # ten minutes in
    status.peak_mib_per_worker = {101: 480.0, 102: 512.4}
    status.episodes_per_node.update({"node-a": 2, "node-b": 2})
    line = describe_backlog(status)
    assert line.startswith("[##########----------] 4/8 episodes, 1 failed, 1:30:00 of audio")
    assert "at 9.0x real time on 4 workers, about 10:00 left" in line
    assert describe_backlog(status, final=True) == (
        "stored 3 of 8 episodes, 1 failed: 1:30:00 of audio in 10:00 on 4 workers on 2 nodes "
        "(9.0x real time; a worker peaked at 512 MiB)"
    )
