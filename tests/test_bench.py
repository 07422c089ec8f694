"""`radlite bench` runs the whole path in its three modes and reports against the ceiling.
Numbers are not asserted here (timing belongs in the benchmark's own output): the structure
and the token accounting are."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from radlite_fhir.bench import fixed_reports
from radlite_fhir.cli import main


def test_fixed_reports_are_the_same_every_time(shared_data: Path) -> None:
    first, again = fixed_reports(shared_data, 6), fixed_reports(shared_data, 6)
    assert first == again
    assert [d["id"].split("-")[1] for d in first] == ["openi"] * 3 + ["mtsamples"] * 3
    assert all(d["conclusion"].strip() for d in first)


@pytest.mark.model
def test_bench_runs_every_mode_and_writes_json(
    home_with_models: Path, shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "bench.json"
    assert (
        main(
            [
                "bench",
                "--data",
                str(shared_data),
                "--reports",
                "2",
                "--model",
                "smollm2-135m",
                "--threads",
                "2",
                "--json",
                str(out),
            ]
        )
        == 0
    )
    document = json.loads(out.read_text())
    assert set(document["modes"]) == {"notebook", "structured"}
    notebook, structured = document["modes"]["notebook"], document["modes"]["structured"]
    # The notebook reads every prompt whole; the structured mode reads each report once.
    for task in notebook["per_task"].values():
        assert task["evaluated_prompt_tokens"] == task["prompt_tokens"]
    reads = [task["evaluated_prompt_tokens"] for task in structured["per_task"].values()]
    assert reads[0] > 5 * max(reads[1:])
    assert document["ceiling"]["prompt_rate"] > 0 and document["peak_rss_mb"] > 0
    printed = capsys.readouterr().out
    assert "llama.cpp ceiling" in printed and "targets:" in printed


@pytest.mark.model
def test_bench_scale_codes_every_report_alike_in_every_front_end(
    home_with_models: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """convert, watch --workers and watch through a shared llama-server write the same
    Observation identifiers for the same reports (the scale bench compares them)."""
    out = tmp_path / "scale.json"
    arguments = ["bench", "--scale", "--reports", "4", "--per-shard", "2", "--workers", "1",
                 "--scale-modes", "watch,watch+server", "--tasks", "rads", "--model",
                 "smollm2-135m", "--json", str(out)]  # fmt: skip
    assert main(arguments) == 0
    document = json.loads(out.read_text())
    modes = [(r["mode"], r["workers"]) for r in document["rounds"]]
    assert modes == [("convert", 1), ("watch", 1), ("watch+server", 1)]
    assert all(r["same_identifiers"] for r in document["rounds"])
    assert all(r["reports"] == 4 and r["end_to_end_per_min"] > 0 for r in document["rounds"])
    assert "x linear" in capsys.readouterr().out
