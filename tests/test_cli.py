"""The `archive` command, driven in-process. The fake model keeps these fast;
test_end_to_end.py runs the same paths with the real one."""

import json

import pytest

from .audio_tools import truncate, write_video_only, write_wav
from .conftest import CORPUS, PROJECT_ROOT

EXAMPLE = PROJECT_ROOT / "examples" / "narrated-archive.mp3"
EXAMPLE_NOTES = PROJECT_ROOT / "examples" / "narrated-archive-notes.txt"


def error_lines(result):
    return [line for line in result.stderr.splitlines() if line.startswith("Error:")]


def test_ingest_prints_ids_on_stdout_and_progress_on_stderr(run_cli, fake_transcriber):
    result = run_cli("ingest", CORPUS / "jfk.flac", "--notes", EXAMPLE_NOTES)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip().startswith("sha256:") and len(result.stdout.split()) == 1
    assert "transcribed 0:11 of audio in" in result.stderr and "x real time)" in result.stderr
    assert "stored sha256:" in result.stderr


def test_ingest_json_and_episodes_json(run_cli, fake_transcriber):
    result = run_cli("ingest", CORPUS / "jfk.flac", "--title", "Ask not", "--id", "jfk", "--json")
    stored = json.loads(result.stdout)
    assert stored == [
        {
            "id": "jfk",
            "title": "Ask not",
            "duration": pytest.approx(11.0, abs=0.01),
            "chapters": 1,
            "segments": 5,
        }
    ]
    episodes = json.loads(run_cli("episodes", "--json").stdout)
    assert episodes == stored


def test_chapters_json_shape(run_cli, fake_transcriber):
    run_cli("ingest", EXAMPLE, "--notes", EXAMPLE_NOTES, "--id", "example")
    result = run_cli("chapters", "exam", "--json")
    chapters = json.loads(result.stdout)
    assert [c["position"] for c in chapters] == [0, 1, 2, 3, 4]
    assert set(chapters[0]) >= {
        "position", "title", "start", "end", "stated_start", "confidence", "gaps"
    }
    assert chapters[0]["hidden"] is False
    assert chapters[0]["stated_start"] is None and chapters[1]["stated_start"] == 12.0
    table = run_cli("chapters", "example")
    assert "The problem with listening" in table.stdout and "0:12" in table.stdout


def test_search_json_shape_and_text(run_cli, fake_transcriber):
    run_cli("ingest", EXAMPLE, "--notes", EXAMPLE_NOTES, "--id", "example")
    hits = json.loads(run_cli("search", "word30", "--json").stdout)
    assert len(hits) == 1
    assert {
        "episode_id",
        "episode_title",
        "chapter_position",
        "chapter_title",
        "start",
        "end",
        "text",
        "snippet",
    } <= set(hits[0])
    assert hits[0]["chapter_title"] == "Transcripts and full text search"
    assert hits[0]["snippet"].startswith("<mark>word30</mark>")
    text = run_cli("search", "word30").stdout
    assert text.startswith("[00:30] Why keep a spoken archive › Transcripts and full text search")


def test_bad_files_in_a_batch_each_get_one_error_and_the_rest_go_in(
    run_cli, fake_transcriber, tmp_path
):
    empty = tmp_path / "empty.mp3"
    empty.write_bytes(b"")
    text = tmp_path / "readme.mp3"
    text.write_text("not audio at all\n" * 40)
    video = write_video_only(tmp_path / "silent-film.mp4")
    result = run_cli("ingest", empty, CORPUS / "jfk.flac", text, video, CORPUS / "sonnet-p001.mp3")
    assert result.exit_code == 1
    errors = error_lines(result)
    assert errors == [
        f"Error: {empty}: empty file",
        f"Error: {text}: not an audio file (Invalid data found when processing input)",
        f"Error: {video}: no audio stream in this file",
        "Error: 3 of 5 files could not be ingested",
    ]
    assert "Traceback" not in result.stderr
    assert len(json.loads(run_cli("episodes", "--json").stdout)) == 2


def test_truncated_file_warns_and_is_stored(run_cli, fake_transcriber, tmp_path):
    cut = truncate(CORPUS / "jfk.flac", tmp_path / "cut.flac")
    result = run_cli("ingest", cut)
    assert result.exit_code == 0
    warnings = [line for line in result.stderr.splitlines() if line.startswith("Warning:")]
    assert len(warnings) == 1 and "decoded 0:0" in warnings[0] and "declared 0:11" in warnings[0]
    [episode] = json.loads(run_cli("episodes", "--json").stdout)
    assert 3 < episode["duration"] < 8


def test_reingest_keeps_one_copy(run_cli, fake_transcriber):
    for _ in range(2):
        run_cli("ingest", CORPUS / "jfk.flac")
    assert len(json.loads(run_cli("episodes", "--json").stdout)) == 1


def test_per_episode_options_need_a_single_file(run_cli, fake_transcriber):
    result = run_cli("ingest", CORPUS / "jfk.flac", CORPUS / "jfk.flac", "--title", "x")
    assert result.exit_code == 2 and "give one AUDIO" in result.stderr


def test_unreadable_model_is_one_error_line(run_cli, tmp_path):
    result = run_cli("ingest", CORPUS / "jfk.flac", "--model", str(tmp_path))
    assert result.exit_code == 1
    assert error_lines(result)[0].startswith(f"Error: cannot load model '{tmp_path}' on cpu (int8)")
    assert "Traceback" not in result.stderr


def test_reading_commands_on_a_missing_archive(run_cli, tmp_path):
    result = run_cli("search", "anything", "--db", tmp_path / "nope.db")
    assert result.exit_code == 1 and "no archive here" in result.stderr
    assert not (tmp_path / "nope.db").exists()


def test_malformed_search_is_one_error_line(run_cli, fake_transcriber):
    run_cli("ingest", CORPUS / "jfk.flac")
    result = run_cli("search", '"ask not')
    assert result.exit_code == 1
    assert error_lines(result) == ["Error: invalid search query '\"ask not': unterminated string"]


def test_unknown_episode(run_cli, fake_transcriber):
    run_cli("ingest", CORPUS / "jfk.flac")
    result = run_cli("chapters", "nothing-like-this")
    assert result.exit_code == 1 and "no episode matches 'nothing-like-this'" in result.stderr


def test_silent_file_is_stored_with_no_segments(run_cli, tmp_path, transcriber, monkeypatch):
    import numpy as np

    monkeypatch.setattr("pipeline.cli.Transcriber", lambda **kwargs: transcriber)
    quiet = write_wav(tmp_path / "quiet.wav", np.zeros(16000 * 5, dtype=np.float32))
    result = run_cli("ingest", quiet, "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)[0]["segments"] == 0


def test_verbose_shows_the_pipeline_log_and_quiet_runs_do_not(run_cli, fake_transcriber):
    loud = run_cli("ingest", CORPUS / "jfk.flac", "-v")
    assert "pipeline.longform: chunk 0 (0.0-11.0 s) transcribed" in loud.stderr
    quiet = run_cli("ingest", CORPUS / "jfk.flac")
    assert "pipeline." not in quiet.stderr
