"""Configuration of the address index: how it is built and how it searches.

One dataclass holds every knob; :func:`index.store.build_index` takes it, the
manifest records it, and :func:`index.store.load_index` restores it, so an index
searches the way it was built to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = ["IndexConfig", "IndexKind"]

IndexKind = Literal["hnsw", "ivfpq"]


@dataclass(frozen=True, slots=True)
class IndexConfig:
    """How to build and search an address index.

    Example:
        >>> IndexConfig(kind="ivfpq")  # for tens of millions of addresses
    """

    kind: IndexKind = field(
        default="hnsw",
        metadata={
            "help": "FAISS structure: 'hnsw' (default, exact-ish, ~1.8 KB/address) "
            "or 'ivfpq' (compressed, ~70 B/address, for large sets)."
        },
    )
    hnsw_m: int = field(default=32, metadata={"help": "HNSW neighbours per node."})
    hnsw_ef_construction: int = field(
        default=48, metadata={"help": "HNSW candidate list size while building."}
    )
    hnsw_ef_search: int = field(
        default=64, metadata={"help": "HNSW candidate list size while searching."}
    )
    ivf_nlist: int | None = field(
        default=None, metadata={"help": "IVF cells; None = 4*sqrt(n) rounded to a power of two."}
    )
    pq_m: int = field(default=48, metadata={"help": "PQ sub-quantizers (bytes per vector)."})
    ivf_nprobe: int = field(default=16, metadata={"help": "IVF cells visited per search."})
    batch_size: int = field(default=128, metadata={"help": "Addresses per embedding batch."})
    max_seq_length: int = field(
        default=40, metadata={"help": "Token limit per address (addresses use ~15)."}
    )
    quantize: bool = field(
        default=True,
        metadata={
            "help": "int8 dynamic quantization of the embedding model's feed-forward "
            "layers (faster build, slightly different vectors)."
        },
    )
    threads: int = field(default=2, metadata={"help": "torch and FAISS threads while building."})
    query_threads: int = field(
        default=1,
        metadata={
            "help": "torch and FAISS threads while searching (one query is too small "
            "to share; more threads only contend)."
        },
    )
    dense_k: int = field(
        default=24, metadata={"help": "Candidates taken from the dense (FAISS) path per query."}
    )
    dense_below: float = field(
        default=0.9,
        metadata={
            "help": "Run the dense path only when the best lexical candidate scores "
            "below this (embedding a query costs ~10 ms, everything else ~1 ms); "
            "above 1.0 = always."
        },
    )
    lexical_k: int = field(
        default=48, metadata={"help": "Candidates taken from the lexical path per query."}
    )
    show_progress: bool = field(default=True, metadata={"help": "tqdm progress bars."})
