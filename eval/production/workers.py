"""The worker processes that verify each request, one on each side's code."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

from eval._common import REPO
from eval.production.cases import Request

ENTRY_POINT = REPO / "eval" / "bench_production.py"
"""The script the run's subprocesses start (``prepare`` and ``worker``)."""


def pythonpath(tree: Path) -> str:
    """``PYTHONPATH`` for a subprocess on the code of ``tree``: the tree first, then this
    checkout, whose ``eval`` package the subprocess runs whatever the tree holds."""
    return os.pathsep.join(dict.fromkeys((str(tree), str(REPO))))


def _answer(verification: Any) -> dict[str, Any]:
    """A verification as JSON: what the figures read."""
    coverage = getattr(verification, "coverage", None)
    return {
        "verdict": str(verification.verdict),
        "granularity": str(verification.granularity),
        "reasons": [str(r) for r in verification.reasons],
        "standardized": verification.standardized,
        "components": dict(verification.components),
        "match": verification.match.id if verification.match else None,
        "suggestions": [
            {"id": s.id, "address": s.address, "components": dict(s.components)}
            for s in verification.suggestions
        ],
        "extras": dict(getattr(verification, "extras", None) or {}),
        "coverage": None if coverage is None else str(coverage),
    }


def serve(indexes: dict[str, Path]) -> None:
    """The worker: load libpostal, the indexes and the classifier of whatever code
    ``PYTHONPATH`` names, say "ready" with what that code can do, then answer one JSON line
    per request line until stdin closes."""
    protocol = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)  # libraries' prints must not mix with the answers
    import dataclasses

    import address
    from address.libpostal import load
    from address.verify import Verification, verify_batch
    from finetune.classifier import Classifier
    from index.store import load_index

    structured: Any = None  # the baseline has no structured input
    with contextlib.suppress(ImportError):
        from address.fields import AddressFields

        structured = AddressFields
    started = time.perf_counter()
    load()
    loaded = {name: load_index(path) for name, path in indexes.items()}
    classifier = Classifier.load()
    for index in loaded.values():
        index.load_embedder()
        rows = index.rows.loc[~index.rows["deleted"].astype(bool), "address"]
        for text in [*rows.iloc[:: max(1, len(rows) // 6)].head(6), "call me before noon"]:
            verify_batch([text], searcher=index, classifier=classifier)
    names = {f.name for f in dataclasses.fields(Verification)}
    ready = {
        "ready": True,
        "address_file": address.__file__,
        "fields": structured is not None,
        "extras": "extras" in names,
        "coverage": "coverage" in names,
        "load_seconds": round(time.perf_counter() - started, 1),
    }
    protocol.write(json.dumps(ready) + "\n")
    for line in sys.stdin:
        ask = json.loads(line)
        item: Any = ask.get("text")
        if "fields" in ask and structured is not None:
            item = structured(**{**ask["fields"], "lines": tuple(ask["fields"]["lines"])})
        started = time.perf_counter()
        try:
            got = verify_batch(
                [item], ask["country"], searcher=loaded[ask["index"]], classifier=classifier
            )[0]
            out = {"ok": True, **_answer(got)}
        except Exception as error:  # a failing request is counted, not fatal
            out = {"ok": False, "error": f"{type(error).__name__}: {error}"}
        out["ms"] = round((time.perf_counter() - started) * 1000, 2)
        protocol.write(json.dumps(out, ensure_ascii=False) + "\n")


class Worker:
    """A :func:`serve` process on the code of ``tree``."""

    def __init__(self, side: str, tree: Path, indexes: dict[str, Path], log: Path) -> None:
        self.side, self.tree, self.log = side, tree, log
        env = {
            **os.environ,
            "PYTHONPATH": pythonpath(tree),
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
            "TOKENIZERS_PARALLELISM": "false",
            "HF_HUB_DISABLE_PROGRESS_BARS": "1",
            "TRANSFORMERS_VERBOSITY": "error",
        }
        command = [sys.executable, str(ENTRY_POINT), "worker"]
        command += [arg for name, path in indexes.items() for arg in ("--index", f"{name}={path}")]
        with log.open("w", encoding="utf-8") as err:
            self.process = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
                encoding="utf-8",
                cwd=REPO,
                env=env,
            )
        self.info: dict[str, Any] = {}

    def _read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            tail = self.log.read_text(encoding="utf-8", errors="replace")[-3000:]
            raise RuntimeError(f"{self.side} worker exited:\n{tail}")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def wait_ready(self) -> dict[str, Any]:
        """Block until loaded; check that the code imported is the tree's."""
        self.info = self._read()
        if not Path(self.info["address_file"]).resolve().is_relative_to(self.tree.resolve()):
            raise RuntimeError(
                f"{self.side} worker imported {self.info['address_file']}, not {self.tree}"
            )
        return self.info

    def ask(self, request: Request) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "index": "covered" if request.address.covered else "default",
            "country": request.address.country,
            "text": request.text,
        }
        if request.fields is not None and self.info.get("fields"):
            payload["fields"] = request.fields
        stdin: IO[str] | None = self.process.stdin
        assert stdin is not None
        stdin.write(json.dumps(payload, ensure_ascii=False) + "\n")
        stdin.flush()
        return self._read()

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def unpack_tree(rev: str, folder: Path) -> Path:
    """The code of ``rev`` unpacked into ``folder``."""
    folder.mkdir()
    archive = subprocess.run(
        ["git", "archive", rev], cwd=REPO, capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder
