"""Speech that could not be transcribed is listed, never dropped silently."""

import json

from db.serve import build_datasette
from pipeline.records import Gap

from .conftest import CORPUS, FakeTranscriber


class GappyFake(FakeTranscriber):
    """The fake model, reporting that it heard speech at 4-7.5 s it could not decode."""

    def transcribe(self, samples, **options):
        transcript = super().transcribe(samples, **options)
        transcript.gaps = [Gap(4.0, 7.5, "heard speech, no words after decoding it again")]
        return transcript


def test_gaps_are_counted_stored_shown_and_served(run_cli, monkeypatch, db_path):
    monkeypatch.setattr("pipeline.cli.Transcriber", GappyFake)
    result = run_cli("ingest", CORPUS / "jfk.flac", "--id", "jfk")
    assert result.exit_code == 0, result.stderr
    assert "1 stretch of speech (0:03.5) could not be transcribed" in result.stderr

    table = run_cli("chapters", "jfk").stdout
    assert "1 stretch of speech (0:03.5) could not be transcribed:" in table
    start, end, reason = table.splitlines()[-1].split(maxsplit=2)
    assert (start, end) == ("0:04", "0:07.5")
    assert reason == "heard speech, no words after decoding it again"
    [chapter] = json.loads(run_cli("chapters", "jfk", "--json").stdout)
    assert chapter["gaps"] == [
        {"start": 4.0, "end": 7.5, "reason": "heard speech, no words after decoding it again"}
    ]

    run_cli("ingest", CORPUS / "jfk.flac", "--id", "jfk")  # replaced, not doubled
    assert len(json.loads(run_cli("chapters", "jfk", "--json").stdout)[0]["gaps"]) == 1


async def test_gaps_are_a_described_table_in_datasette(run_cli, monkeypatch, db_path):
    monkeypatch.setattr("pipeline.cli.Transcriber", GappyFake)
    run_cli("ingest", CORPUS / "jfk.flac", "--id", "jfk")
    ds = build_datasette(db_path)
    response = await ds.client.get("/archive/gaps.json?_shape=array")
    assert response.status_code == 200
    assert [(row["episode_id"], row["start"]) for row in response.json()] == [("jfk", 4.0)]
    page = (await ds.client.get("/archive/gaps")).text
    assert "no decoding produced words" in page
