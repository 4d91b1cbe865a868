"""benchmarks/load_test.py, small: a few visitors for a few seconds through nginx while the
gallery is re-indexed in the background. Asserts that nothing failed (no timing: that is what
the benchmark itself reports, docs/load.md)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
from test_deployment import need_nginx

LOAD_TEST = Path(__file__).resolve().parents[1] / "benchmarks" / "load_test.py"


@pytest.mark.shared_data("bbt")
@pytest.mark.slow
def test_load_through_nginx_without_errors(datasets, tmp_path):
    need_nginx()
    # found, not imported: importing locust monkey-patches this process for gevent
    if importlib.util.find_spec("locust") is None:
        pytest.skip("locust is not installed (requirements.txt)")
    out = tmp_path / "load.json"
    r = subprocess.run(
        [sys.executable, str(LOAD_TEST), "--users", "4", "--spawn-rate", "4", "--duration", "15", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert out.exists(), f"load_test.py wrote no result ({r.returncode}):\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    result = json.loads(out.read_text())
    by_name = {row["name"]: row for row in result["requests"]}
    assert by_name["/api/search"]["requests"] > 0 and by_name["/cache/thumbnails/[size]/[id].jpg"]["requests"] > 0, r.stdout
    assert by_name["all requests"]["failures"] == 0, r.stdout
    assert result["nginx_429"] == 0, "the raised rate limits still refused requests"
    assert result["background_runs"] and all(run["exit_status"] == 0 for run in result["background_runs"]), result["background_runs"]
    assert r.returncode == 0, r.stdout + r.stderr
