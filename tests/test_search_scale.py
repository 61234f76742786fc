"""The 1,000-hour search benchmark, run small as a smoke check of its JSON and recall."""

import json
import os
import subprocess
import sys

from .conftest import PROJECT_ROOT

CLASSES = {
    "rare (~50 segments)",
    "medium (~1%)",
    "common (~25%)",
    "the (~50%)",
    "two common words",
    "quoted phrase",
    "prefix pol*",
}


def test_benchmark_at_five_hours(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            PROJECT_ROOT / "benchmarks" / "search_scale.py",
            "--hours",
            "5",
            "--frequent",
            "200",
            "--champions",
            "400",
            "--repeats",
            "2",
            "--concurrent",
            "20",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "ARCHIVE_BENCH_CACHE": str(tmp_path)},
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout)
    assert report["segments"] == 4500 and report["search_index"]["frequent_terms"] > 10
    assert set(report["classes"]) == CLASSES
    for name, figures in report["classes"].items():
        assert figures["matches"] > 0, name
        assert figures["naive_recall_at_20"] == 1.0
        for timing in ("in_process", "naive_in_process", "process", "web_one_at_a_time"):
            assert 0 < figures[timing]["p50_ms"] <= figures[timing]["p95_ms"], (name, timing)
        expected = 0.9 if name == "two common words" else 1.0  # single words: exact
        assert figures["recall_at_20"] >= expected, name
    assert report["web"]["at_once"]["errors"] == 0
    assert report["store_one_episode"]["ratio"] > 0 and report["publish_s"] > 0
    assert 0 < report["search_structures_added_pct"] < 100
    assert "| the (~50%) |" in result.stderr  # the summary table
