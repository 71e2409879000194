"""The checkpoint of a bulk cleaning job: ``<output>.parts/manifest.json``.

The manifest holds what identifies the job (:func:`job_identity`) and every chunk
already written to ``<output>.parts/chunk-NNNNNN.parquet``; it is rewritten
atomically after each chunk. A resumed run keeps the chunks whose file is there,
whole, and refuses a checkpoint of another job.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from api.bulk.config import CleanConfig
from api.bulk.io import ResumeError, write_json_atomically

__all__ = ["MANIFEST_VERSION", "Manifest", "job_identity", "parts_dir"]

MANIFEST_VERSION = 1
_MANIFEST = "manifest.json"


def parts_dir(output: Path) -> Path:
    """Folder of chunk files and manifest: ``clean.parquet`` -> ``clean.parquet.parts``."""
    return output.with_name(output.name + ".parts")


def _whole(part: Path, rows: int) -> bool:
    """Whether a chunk file is there and holds ``rows`` rows."""
    try:
        return part.is_file() and pq.ParquetFile(part).metadata.num_rows == rows
    except (OSError, pa.ArrowException):
        return False


def job_identity(config: CleanConfig, index_dir: Path) -> dict[str, Any]:
    """What must not change between a run and its resumption."""
    stat = config.input.stat()
    return {
        "input": str(config.input.resolve()),
        "input_size": stat.st_size,
        "input_mtime_ns": stat.st_mtime_ns,
        "column": config.address_column,
        "components": list(config.components),
        "country": config.country,
        "chunk_rows": config.chunk_rows,
        "index_dir": str(index_dir.resolve()),
        "adapter_dir": str(config.adapter_dir) if config.adapter_dir else None,
        "use_classifier": config.use_classifier,
    }


@dataclass
class Manifest:
    """Checkpoint of a job: its identity and the chunks already written."""

    path: Path
    job: dict[str, Any]
    chunks: dict[int, dict[str, Any]] = field(default_factory=dict)
    total_chunks: int | None = None

    def save(self) -> None:
        """Write the manifest (atomically)."""
        write_json_atomically(
            {
                "version": MANIFEST_VERSION,
                "job": self.job,
                "total_chunks": self.total_chunks,
                "chunks": {str(n): entry for n, entry in sorted(self.chunks.items())},
            },
            self.path,
        )

    @classmethod
    def open(cls, folder: Path, job: dict[str, Any], resume: bool) -> Manifest:
        """A new checkpoint in ``folder``, or with ``resume`` the one left there.

        Raises:
            ResumeError: a left-over checkpoint without ``resume``, or one of another job.
        """
        path = folder / _MANIFEST
        if not path.is_file():
            if folder.exists() and any(folder.iterdir()) and not resume:
                raise ResumeError(f"{folder} holds a previous run; pass --resume or delete it")
            folder.mkdir(parents=True, exist_ok=True)
            manifest = cls(path, job)
            manifest.save()
            return manifest
        if not resume:
            raise ResumeError(
                f"{folder} holds an unfinished run; pass --resume to continue it, or delete it"
            )
        try:
            saved = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ResumeError(f"{path} is unreadable: {exc}") from exc
        if saved.get("version") != MANIFEST_VERSION:
            raise ResumeError(f"{path} is of manifest version {saved.get('version')}")
        changed = sorted(k for k in job if saved["job"].get(k) != job[k])
        if changed:
            raise ResumeError(
                f"cannot resume: {', '.join(changed)} differ from the interrupted run; "
                f"delete {folder} to start again"
            )
        chunks = {}
        for number, entry in saved["chunks"].items():
            # A chunk counts only if its file is there, whole: else it is done again.
            if _whole(folder / entry["file"], entry["rows"]):
                chunks[int(number)] = entry
        return cls(path, job, chunks, saved.get("total_chunks"))
