"""Build, save and load an address index folder.

:func:`build_index` embeds every reference address (MiniLM, 384 dimensions,
L2-normalized) and writes a FAISS index, a Parquet metadata table and a
``manifest.json`` (layout in :mod:`index._files`). FAISS structures, with
memory per address at 384 dimensions:

* ``hnsw`` (default): ``IndexHNSWFlat``, inner product, M=32: 1,536 B of vector
  + ~290 B of graph links = **~1.8 KB per address** (~430 MB for 234k). Recall
  close to exact search; memory-mapped read-only on load.
* ``ivfpq``: ``IndexIVFPQ``, inner product, ``nlist`` = 4*sqrt(n) rounded to a
  power of two, 48 sub-quantizers of 8 bits: 48 B of code + 8 B of id =
  **~56 B per address** (~13 MB for 234k, ~560 MB for 10M); lower recall, which
  the lexical path and the re-ranker make up for. For tens of millions of rows.

The metadata table adds ~250 B per address on disk (~1 KB in memory with the
lexical and prefix structures).

:func:`load_index` refuses, with :class:`IndexNotReadyError`, a folder that is
missing, truncated, corrupt, of another format or built with other model weights.
"""

from __future__ import annotations

import hashlib
import json
import logging
import platform
import resource
import time
from dataclasses import asdict, fields
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from address.errors import IndexNotReadyError
from address.paths import data_paths
from index._files import (
    MANIFEST,
    ROWS,
    VECTORS,
    not_ready,
    read_manifest,
    save_index,
    verify_checksums,
    write_manifest,
)
from index.config import IndexConfig
from index.embed import MODEL_NAME, Embedder, model_fingerprint
from index.reference import REFERENCE_COLUMNS, read_reference
from index.rows import with_keys, with_points
from index.search import AddressIndex

__all__ = [
    "build_index",
    "default_index_dir",
    "ensure_index",
    "index_is_current",
    "load_index",
    "reference_checksum",
]

logger = logging.getLogger(__name__)

KEY_COLUMNS = (
    "key",
    "hn_key",
    "road_key",
    "unit_key",
    "postcode_key",
    "city_key",
    "number_first",
    "street_first",
)
_VERSIONED = ("faiss-cpu", "torch", "sentence-transformers", "numpy", "rapidfuzz", "pandas")


def default_index_dir() -> Path:
    """Where the default index lives (``<data_dir>/index/default``, :mod:`address.paths`)."""
    return data_paths().index


def reference_checksum(frame: pd.DataFrame) -> str:
    """Content checksum of reference rows (order and every column included)."""
    hashed = pd.util.hash_pandas_object(frame.loc[:, list(REFERENCE_COLUMNS)], index=False)
    return "sha256:" + hashlib.sha256(hashed.to_numpy().tobytes()).hexdigest()


# ---------------------------------------------------------------------- FAISS


def _ivf_nlist(n: int, config: IndexConfig) -> int:
    if config.ivf_nlist:
        return config.ivf_nlist
    target = 4 * int(np.sqrt(max(n, 1)))
    nlist = 1 << max(0, int(np.round(np.log2(max(target, 1)))))
    return max(1, min(nlist, n // 39))


def _new_faiss(vectors: np.ndarray[Any, Any], config: IndexConfig) -> tuple[Any, dict[str, Any]]:
    import faiss

    faiss.omp_set_num_threads(config.threads)
    dim = vectors.shape[1]
    index: Any
    if config.kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, config.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = config.hnsw_ef_construction
        index.hnsw.efSearch = config.hnsw_ef_search
        index.add(vectors)
        params: dict[str, Any] = {
            "M": config.hnsw_m,
            "efConstruction": config.hnsw_ef_construction,
            "efSearch": config.hnsw_ef_search,
        }
    else:
        nlist = _ivf_nlist(len(vectors), config)
        nbits = 8 if len(vectors) >= 256 * 39 else 4
        quantizer = faiss.IndexFlatIP(dim)
        index = faiss.IndexIVFPQ(
            quantizer, dim, nlist, config.pq_m, nbits, faiss.METRIC_INNER_PRODUCT
        )
        index.train(vectors)
        index.add(vectors)
        index.nprobe = config.ivf_nprobe
        params = {"nlist": nlist, "m": config.pq_m, "nbits": nbits, "nprobe": config.ivf_nprobe}
    return index, {"type": type(index).__name__, "metric": "inner_product", "params": params}


def _versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in _VERSIONED:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


# ---------------------------------------------------------------------- build


def build_index(
    reference: Path | pd.DataFrame, out: Path, config: IndexConfig | None = None
) -> Path:
    """Embed every reference address and write an index folder atomically.

    Args:
        reference: a reference table (Parquet from :mod:`index.reference`) or its
            rows, e.g. ``read_reference(data_paths().reference)``.
        out: folder to create or replace, e.g. ``<data_dir>/index/default``.
        config: FAISS kind and embedding settings; default :class:`IndexConfig`.

    Returns:
        ``out``, holding ``vectors.faiss``, ``rows.parquet`` and ``manifest.json``.
    """
    config = config or IndexConfig()
    frame = with_points(read_reference(reference) if isinstance(reference, Path) else reference)
    started = time.perf_counter()
    rows = with_keys(frame)
    embedder = _embedder(config, config.threads)
    embed_start = time.perf_counter()
    vectors = embedder.embed(rows["address"].tolist(), progress=config.show_progress)
    embed_seconds = time.perf_counter() - embed_start
    distinct = int(rows["key"].nunique())
    faiss_start = time.perf_counter()
    index, faiss_info = _new_faiss(vectors, config)
    faiss_seconds = time.perf_counter() - faiss_start
    manifest: dict[str, Any] = {
        "model": {
            "name": MODEL_NAME,
            "fingerprint": model_fingerprint(),
            "dimensions": int(vectors.shape[1]),
            "max_seq_length": config.max_seq_length,
            "quantized": config.quantize,
        },
        "faiss": faiss_info,
        "count": int(index.ntotal),
        "data": {"reference_checksum": reference_checksum(frame), "rows": len(rows)},
        "config": asdict(config),
        "build": {
            "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "embedded_distinct": distinct,
            "embed_seconds": round(embed_seconds, 1),
            "embed_rows_per_s": round(distinct / max(embed_seconds, 1e-9), 1),
            "faiss_seconds": round(faiss_seconds, 1),
            "versions": _versions(),
        },
    }
    path = save_index(index, rows, manifest, out)
    total = time.perf_counter() - started
    logger.info("built %s: %d rows in %.0f s", path, len(rows), total)
    _record_total(path, total)
    return path


def _record_total(path: Path, seconds: float) -> None:
    # The total is only known after writing; it goes into the manifest, which is
    # not itself checksummed, with a rename so readers never see half a file.
    # The peak resident memory is this process's so far: the build's, when the
    # build runs in its own process (``addr index build``).
    manifest_path = path / MANIFEST
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["build"]["total_seconds"] = round(seconds, 1)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    manifest["build"]["process_peak_rss_mb"] = round(peak_kb / 1024)
    write_manifest(path, manifest)


# ---------------------------------------------------------------------- load


def _embedder(config: IndexConfig, threads: int) -> Embedder:
    return Embedder(
        max_seq_length=config.max_seq_length,
        batch_size=config.batch_size,
        quantize=config.quantize,
        threads=threads,
    )


def _config_from(manifest: dict[str, Any]) -> IndexConfig:
    known = {f.name for f in fields(IndexConfig)}
    stored = {k: v for k, v in manifest.get("config", {}).items() if k in known}
    return IndexConfig(**stored)


def _read_faiss(path: Path) -> tuple[Any, bool]:
    import faiss

    try:
        return faiss.read_index(str(path), faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY), True
    except RuntimeError:
        return faiss.read_index(str(path)), False


def load_index(path: Path | None = None, *, verify: bool = True) -> AddressIndex:
    """Open an index folder, memory-mapping FAISS where its type allows.

    Args:
        path: the folder, default :func:`default_index_dir`.
        verify: compare SHA-256 checksums of the files with the manifest
            (~0.5 s for the default index); sizes are always compared.

    Raises:
        IndexNotReadyError: the folder is missing, truncated, corrupt, of another
            format, or built with other model weights than the installed ones.
    """
    folder = (path or default_index_dir()).resolve()
    manifest = read_manifest(folder)
    if verify:
        verify_checksums(folder, manifest)
    running = model_fingerprint()
    built_with = manifest.get("model", {}).get("fingerprint")
    if built_with != running:
        raise not_ready(
            folder,
            f"it was built with model weights {built_with}, the installed model is {running}",
        )
    try:
        vectors, mapped = _read_faiss(folder / VECTORS)
        rows = pd.read_parquet(folder / ROWS)
    except Exception as error:  # FAISS raises RuntimeError, Arrow its own errors
        raise not_ready(folder, f"a file cannot be read ({error})") from error
    count = manifest.get("count")
    if vectors.ntotal != count or len(rows) != count:
        raise not_ready(
            folder,
            f"FAISS holds {vectors.ntotal} vectors and the table {len(rows)} rows, "
            f"the manifest says {count}",
        )
    if vectors.d != manifest["model"].get("dimensions"):
        raise not_ready(
            folder,
            f"vectors have {vectors.d} dimensions, not {manifest['model'].get('dimensions')}",
        )
    config = _config_from(manifest)
    _set_search_params(vectors, config)
    embedder = _embedder(config, config.query_threads)
    return AddressIndex(vectors, rows, config, manifest, embedder, folder, mapped)


def _set_search_params(vectors: Any, config: IndexConfig) -> None:
    import faiss

    faiss.omp_set_num_threads(config.query_threads)
    if hasattr(vectors, "hnsw"):
        vectors.hnsw.efSearch = config.hnsw_ef_search
    if hasattr(vectors, "nprobe"):
        vectors.nprobe = config.ivf_nprobe


def index_is_current(path: Path, reference: pd.DataFrame, config: IndexConfig) -> bool:
    """Whether ``path`` holds a usable index of exactly these rows, model and FAISS kind."""
    try:
        manifest = read_manifest(path)
        verify_checksums(path, manifest)
    except IndexNotReadyError:
        return False
    return (
        manifest.get("model", {}).get("fingerprint") == model_fingerprint()
        and manifest.get("data", {}).get("reference_checksum") == reference_checksum(reference)
        and manifest.get("faiss", {}).get("params") is not None
        and manifest.get("config", {}).get("kind") == config.kind
        and manifest.get("live") == manifest.get("count")
    )


def ensure_index(
    reference: Path | None = None, out: Path | None = None, config: IndexConfig | None = None
) -> tuple[Path, bool]:
    """Build the index unless ``out`` already holds a current one (for ``make setup``).

    Returns:
        The folder and whether it was (re)built.
    """
    config = config or IndexConfig()
    out = (out or default_index_dir()).resolve()
    frame = read_reference(reference or data_paths().reference)
    if index_is_current(out, frame, config):
        return out, False
    return build_index(frame, out, config), True
