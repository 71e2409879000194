"""eval.datasets_eval: a quick run on one dataset, and a clean skip without the datasets."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DATASETS = REPO.parent / "shared" / "datasets"
CHICAGO = "chicago_dedupe_messy_addresses"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "eval.datasets_eval", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )


def test_absent_datasets_folder_is_skipped_with_a_message(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = _run("--datasets", str(tmp_path / "absent"), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "absent" in result.stdout
    assert not out.exists()


@pytest.mark.slow
@pytest.mark.skipif(not DATASETS.is_dir(), reason=f"{DATASETS} is absent")
def test_quick_run_on_chicago(tmp_path: Path) -> None:
    result = _run("--quick", "--only", "chicago", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr[-3000:]
    data = json.loads((tmp_path / "datasets_eval.json").read_text(encoding="utf-8"))
    assert data["quick"] is True
    assert set(data["datasets"]) == {CHICAGO}
    assert {"date", "command", "machine"} <= set(data)
    entry = data["datasets"][CHICAGO]
    ours, base = entry["suggest"], entry["baseline"]["suggest"]
    assert ours["n"] == base["n"] > 0
    for figures in (ours, base):
        assert 0.0 <= figures["top1"] <= figures["top5"] <= 1.0
        assert figures["latency_ms"]["p50"] <= figures["latency_ms"]["p95"]
    # Variant spellings of the same place: the index finds nearly all, and beats WRatio.
    assert ours["top5"] >= 0.9
    assert ours["top1"] >= base["top1"]
    markdown = (tmp_path / "datasets_eval.md").read_text(encoding="utf-8")
    assert "## Suggest: index vs brute force" in markdown
    assert not [line for line in markdown.splitlines() if line.startswith("# ")]
    assert (tmp_path / "datasets_eval.png").stat().st_size > 0
