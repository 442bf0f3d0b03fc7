"""Time gitops-reviewer against the NAIVE and FLOOR baselines on a synthetic config repo.

    python benchmarks/run.py --apps 1000 --output benchmark.json

Scenarios (benchmarks/README.md): S1 one overlay changed, S2 a base shared by 5 % of the apps changed,
S3 a base shared by every kustomize app changed (each with an empty cache), S4 S1-S3 again with the
cache they left, S5 the diff and rule engine alone on 100,000 resources of which 5 % changed.

Every measurement is a child process: its wall time is measured here, its peak memory read from
`wait4`'s resource usage. The review runs `gitops-reviewer check --format json`, and the report is
checked: the apps it selected must be exactly the apps the scenario affects.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import Scenario, generate, plan, scenarios

HERE = Path(__file__).resolve().parent


@dataclass
class Measured:
    """A child process's wall time and peak memory (MB), with its output."""

    seconds: float
    peak_mb: float
    returncode: int
    stdout: str
    stderr: str


def measure(argv: list[str], cwd: Path | None = None) -> Measured:
    """Run `argv`; its wall time, and its peak RSS from wait4 (the largest of it and the children it
    waited for; Linux reports kilobytes)."""
    with tempfile.TemporaryFile(mode="w+") as out_file, tempfile.TemporaryFile(mode="w+") as err_file:
        started = time.perf_counter()
        child = subprocess.Popen(argv, cwd=cwd, stdout=out_file, stderr=err_file)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        out_file.seek(0)
        err_file.seek(0)
        return Measured(seconds, usage.ru_maxrss / 1024, child.returncode, out_file.read(), err_file.read())


@dataclass
class Row:
    scenario: str
    description: str
    expected_apps: int
    selected_apps: int | None
    correct: bool | None
    seconds: float
    peak_mb: float
    naive_seconds: float | None = None
    floor_seconds: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    runs: list[float] = field(default_factory=list)  # every repeat's wall time; `seconds` is their median

    @property
    def vs_naive(self) -> float | None:
        return self.seconds / self.naive_seconds if self.naive_seconds else None

    @property
    def vs_floor(self) -> float | None:
        return self.seconds / self.floor_seconds if self.floor_seconds else None

    def as_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "description": self.description,
            "expected_apps": self.expected_apps,
            "selected_apps": self.selected_apps,
            "correct": self.correct,
            "seconds": round(self.seconds, 3),
            "peak_mb": round(self.peak_mb, 1),
            "naive_seconds": None if self.naive_seconds is None else round(self.naive_seconds, 3),
            "floor_seconds": None if self.floor_seconds is None else round(self.floor_seconds, 3),
            "vs_naive": None if self.vs_naive is None else round(self.vs_naive, 4),
            "vs_floor": None if self.vs_floor is None else round(self.vs_floor, 3),
            "runs": [round(r, 3) for r in self.runs or [self.seconds]],
            "worst_seconds": round(max(self.runs or [self.seconds]), 3),
            **self.extra,
        }


def review(repo: Path, scenario: Scenario, cache: Path, jobs: int, out: Path) -> tuple[Measured, dict[str, Any]]:
    argv = [
        sys.executable,
        "-P",  # not the current directory first on the path: the installed package, wherever this runs from
        "-c",
        "from reviewer.cli import main; main()",
        "check",
        "--repo",
        str(repo),
        "--base",
        "main",
        "--head",
        scenario.branch,
        "--format",
        "json",
        "--output",
        str(out),
        "--cache-dir",
        str(cache),
        "--jobs",
        str(jobs),
    ]
    measured = measure(argv)
    if measured.returncode not in (0, 1) or not out.is_file():
        raise SystemExit(f"{scenario.name}: the review failed ({measured.returncode}): {measured.stderr[-2000:]}")
    return measured, json.loads(out.read_text(encoding="utf-8"))


Run = tuple[Measured, dict[str, Any]]


def repeated(times: int, once: Callable[[], Run]) -> tuple[Measured, dict[str, Any], list[float]]:
    """`once` run `times` times: the run of median wall time (of an even count, the faster middle one) with
    its report, and every run's wall time. On a shared machine one run can be 40 % off: the median says
    what to expect, the list how far it strays."""
    results = [once() for _ in range(max(1, times))]
    walls = [m.seconds for m, _ in results]
    middle = sorted(range(len(results)), key=lambda i: walls[i])[(len(results) - 1) // 2]
    return results[middle][0], results[middle][1], walls


def _selected(report: dict[str, Any]) -> set[str]:
    return {str(a["name"]) for a in report["apps"]}


def baseline(kind: str, repo: Path, scenario: Scenario, jobs: int, sample: int = 0) -> tuple[Measured, dict[str, Any]]:
    argv = [sys.executable, str(HERE / "baselines.py"), kind, "--repo", str(repo), "--base", "main"]
    argv += ["--head", scenario.branch, "--jobs", str(jobs)]
    if kind == "floor":
        argv += ["--apps", ",".join(scenario.affected)]
    if sample:
        argv += ["--sample", str(sample)]
    measured = measure(argv)
    if measured.returncode != 0:
        raise SystemExit(f"{kind} baseline of {scenario.name} failed: {measured.stderr[-2000:]}")
    return measured, json.loads(measured.stdout.strip().splitlines()[-1])


def byte_compile() -> str:
    """Compile the installed package's modules once, before anything is timed, as `pip install` does
    (the Action and the GitLab job install it that way). Without it, an editable install under
    PYTHONDONTWRITEBYTECODE compiles every module again in every review, which no user's CI does."""
    where = subprocess.run(
        [sys.executable, "-P", "-c", "import os, reviewer; print(os.path.dirname(reviewer.__file__))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    subprocess.run([sys.executable, "-m", "compileall", "-q", where], check=True)
    return where


def run(args: argparse.Namespace) -> dict[str, Any]:
    print(f"byte-compiled {byte_compile()}", file=sys.stderr)
    work = Path(args.workdir or tempfile.mkdtemp(prefix="gitops-reviewer-bench-"))
    repo = work / "repo"
    apps = generate(repo, args.apps) if not repo.exists() else plan(args.apps)
    cases = scenarios(repo, apps)
    rows: list[Row] = []
    naive_cost: tuple[float, dict[str, Any]] | None = None
    if not args.skip_naive:
        # Render-everything costs the same whatever the change: every app at both revisions.
        measured, info = baseline("naive", repo, cases[0], args.jobs, args.naive_sample)
        naive_cost = (info["seconds"], {**info, "peak_mb": round(measured.peak_mb, 1)})
        rendered = f"{info['rendered_apps']} of {info['apps']} apps rendered"
        print(f"NAIVE: {info['seconds']:.1f} s ({rendered})", file=sys.stderr)
    floors: dict[str, float] = {}
    for number, case in enumerate(cases):
        cache = work / f"cache-{case.name}"

        def cold(case: Scenario = case, cache: Path = cache) -> Run:
            shutil.rmtree(cache, ignore_errors=True)
            return review(repo, case, cache, args.jobs, work / f"{case.name}.json")

        # S1 is repeated; S2 and S3 cold take from seconds to minutes each and are judged against FLOOR.
        measured, report, walls = repeated(args.repeat if number == 0 else 1, cold)
        selected = _selected(report)
        floor_measured, floor_info = baseline("floor", repo, case, args.jobs)
        floors[case.name] = floor_info["seconds"]
        rows.append(
            Row(
                case.name,
                case.description,
                len(case.affected),
                len(selected),
                selected == set(case.affected),
                measured.seconds,
                measured.peak_mb,
                naive_cost[0] if naive_cost else None,
                floor_info["seconds"],
                {"verdict": report["verdict"], "floor_peak_mb": round(floor_measured.peak_mb, 1)},
                walls,
            )
        )
        print(f"{case.name}: {measured.seconds:.2f} s, FLOOR {floor_info['seconds']:.2f} s", file=sys.stderr)
    for case in cases:

        def warm(case: Scenario = case) -> Run:
            return review(repo, case, work / f"cache-{case.name}", args.jobs, work / f"{case.name}-warm.json")

        measured, report, walls = repeated(args.repeat, warm)
        selected = _selected(report)
        rows.append(
            Row(
                f"S4/{case.name}",
                f"{case.description}, warm cache",
                len(case.affected),
                len(selected),
                selected == set(case.affected),
                measured.seconds,
                measured.peak_mb,
                naive_cost[0] if naive_cost else None,
                floors[case.name],
                {"verdict": report["verdict"]},
                walls,
            )
        )
        print(f"S4/{case.name}: {measured.seconds:.2f} s", file=sys.stderr)
    argv = [sys.executable, str(HERE / "baselines.py"), "engine", "--resources", str(args.engine_resources)]

    def engine_once() -> Run:
        measured = measure(argv)
        if measured.returncode != 0:
            raise SystemExit(f"S5 failed: {measured.stderr[-2000:]}")
        result = json.loads(measured.stdout.strip().splitlines()[-1])
        # The engine's own time (diff + rules), not the child's: building 2 x 100,000 inputs is not timed.
        measured.seconds = result["seconds"]
        return measured, result

    measured, engine, walls = repeated(args.repeat, engine_once)
    rows.append(
        Row(
            "S5",
            f"diff + rules on {engine['resources']:,} resources, 5 % changed (in memory)",
            engine["changes"],
            None,
            None,
            engine["seconds"],
            measured.peak_mb,
            extra={k: engine[k] for k in ("diff_seconds", "rules_seconds", "changes", "findings")},
            runs=walls,
        )
    )
    return {
        "apps": args.apps,
        "jobs": args.jobs,
        "cpus": os.cpu_count(),
        "repo": str(repo),
        "repeat": args.repeat,
        "naive": naive_cost[1] if naive_cost else None,
        "rows": [r.as_json() for r in rows],
    }


def table(result: dict[str, Any]) -> str:
    head = ["scenario", "apps sel/exp", "wall s", "worst s", "peak MB", "NAIVE s", "x NAIVE", "FLOOR s", "x FLOOR"]
    lines = [head]
    for r in result["rows"]:
        sel = "-" if r["selected_apps"] is None else f"{r['selected_apps']}/{r['expected_apps']}"

        def num(value: float | None, fmt: str) -> str:
            return "-" if value is None else format(value, fmt)

        lines.append(
            [
                r["scenario"],
                sel,
                num(r["seconds"], ".2f"),
                num(r["worst_seconds"], ".2f"),
                num(r["peak_mb"], ".0f"),
                num(r["naive_seconds"], ".1f"),
                num(r["vs_naive"], ".4f"),
                num(r["floor_seconds"], ".2f"),
                num(r["vs_floor"], ".2f"),
            ]
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    return "\n".join(
        "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(line, widths, strict=True)))
        for line in lines
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--apps", type=int, default=1000, help="apps in the synthetic repo (default 1000)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="parallel renders (default: cores)")
    parser.add_argument("--workdir", type=Path, default=None, help="keep the repo, caches and reports here")
    parser.add_argument("--output", type=Path, default=None, help="write the results as JSON")
    parser.add_argument("--skip-naive", action="store_true", help="do not measure the NAIVE baseline")
    parser.add_argument(
        "--naive-sample", type=int, default=0, help="render only this many apps for NAIVE and extrapolate (0: all)"
    )
    parser.add_argument("--engine-resources", type=int, default=100_000, help="resources in S5 (default 100000)")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run S1, each S4 and S5 this many times; the table gives the median and the worst (default 1)",
    )
    args = parser.parse_args()
    result = run(args)
    text = table(result)
    print(text)
    if args.output:
        args.output.write_text(json.dumps({**result, "table": text}, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
