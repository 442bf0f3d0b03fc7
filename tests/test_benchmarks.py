"""The benchmark itself, at a small size: its JSON has every scenario, and every review selected
exactly the apps its change affects (correctness only: timings are for benchmarks/run.py to print)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT / "benchmarks"))

from generate import plan  # noqa: E402


def test_the_plan_has_the_documented_mix() -> None:
    apps = plan(1000)
    kinds = [a.kind for a in apps]
    assert (kinds.count("kustomize"), kinds.count("helm"), kinds.count("directory")) == (600, 250, 150)
    assert sum(a.base == "bases/svc-00" for a in apps) == 50
    assert len({a.base for a in apps if a.base}) == 20


@pytest.mark.benchmark
def test_the_benchmark_runs_and_every_review_is_exact(tmp_path: Path) -> None:
    out = tmp_path / "result.json"
    argv = [sys.executable, str(PROJECT / "benchmarks/run.py"), "--apps", "30", "--workdir", str(tmp_path / "w")]
    argv += ["--output", str(out), "--naive-sample", "4", "--engine-resources", "3000", "--repeat", "3"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(out.read_text())
    rows = {r["scenario"]: r for r in result["rows"]}
    assert list(rows) == ["S1", "S2", "S3", "S4/S1", "S4/S2", "S4/S3", "S5"]
    expected = {"S1": 1, "S2": 2, "S3": 18}  # one app; 5 % of 30 on the shared base; 60 % are kustomize apps
    for name, count in expected.items():
        for row in (rows[name], rows[f"S4/{name}"]):
            assert row["expected_apps"] == count
            assert row["selected_apps"] == count and row["correct"] is True, row
            assert row["verdict"] == "pass"
            assert row["seconds"] > 0 and row["peak_mb"] > 0
            assert row["floor_seconds"] > 0 and row["naive_seconds"] > 0
            assert row["vs_floor"] == pytest.approx(row["seconds"] / row["floor_seconds"], rel=1e-2)
    # S1 cold, every warm re-run and S5 are repeated; the figure is the median run, the worst is kept.
    for name, row in rows.items():
        assert len(row["runs"]) == (1 if name in ("S2", "S3") else 3), row
        runs = sorted(row["runs"])
        assert row["seconds"] == runs[(len(runs) - 1) // 2] and row["worst_seconds"] == runs[-1], row
    assert result["naive"]["extrapolated"] is True and result["naive"]["rendered_apps"] == 4
    engine = rows["S5"]
    assert engine["changes"] == 150, "5 % of 3,000 resources changed"
    assert engine["diff_seconds"] > 0 and engine["rules_seconds"] >= 0
    assert "S4/S3" in result["table"]
