"""``benchmarks/project.py`` still runs: a small generated project compiles to the esbuild
CLI's bytes and type-checks (cold, warm edits verified inside) — a smoke test, not a
measurement."""

from __future__ import annotations

from benchmarks import project


def test_project_benchmark_runs_on_a_small_project() -> None:
    result = project.run(quick=True, files=24, repeats=1)
    assert result["compile"]["files"] == 24
    assert result["compile"]["same_output"] is True
    check = result["typecheck"]
    assert check["files"] == 25  # the 24 sources and the ambient declarations
    assert len(check["body_s"]) == 2 and len(check["shape_s"]) == 2
    assert "whole project: 24 files" in project.render(result)
