"""Latency and throughput of the validity classifier on this machine's CPU.

Measures, for the bfloat16 classifier (what the service runs), the int8 and the float32 one:
single-address latency (p50/p95 over held-out texts, one at a time) and batch throughput
(``classify_batch`` over all of them). Both include what the classifier does before the
model runs: libpostal's parse and the gazetteer's word on each text. Writes
``eval/results/classifier_bench.{md,json}``.

Run: ``.venv/bin/python -m eval.classifier_bench``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "eval" / "results"


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def bench(classifier: Any, texts: Sequence[str], single: int, repeats: int) -> dict[str, float]:
    """p50/p95 of ``classify`` on ``single`` texts and best-of-``repeats`` batch throughput."""
    for text in texts[:10]:
        classifier.classify(text)  # warm-up
    times = []
    for text in texts[:single]:
        start = time.perf_counter()
        classifier.classify(text)
        times.append(time.perf_counter() - start)
    rates = []
    many = list(texts) * 5  # the 200 held-out texts, five times: 1,000 per pass
    for _ in range(repeats):
        start = time.perf_counter()
        classifier.classify_batch(many)
        rates.append(len(many) / (time.perf_counter() - start))
    return {
        "single_p50_ms": round(statistics.median(times) * 1000, 2),
        "single_p95_ms": round(_percentile(times, 0.95) * 1000, 2),
        "batch_per_s": round(max(rates), 1),
        "batch_per_s_median": round(statistics.median(rates), 1),
    }


def main(argv: Sequence[str] | None = None) -> int:
    import torch

    from finetune.classifier import DEFAULT_ADAPTER_DIR, PRECISIONS, Classifier
    from finetune.data import read_jsonl

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--adapter", type=Path, default=DEFAULT_ADAPTER_DIR)
    parser.add_argument("--single", type=int, default=200, help="texts timed one by one")
    parser.add_argument("--repeats", type=int, default=3, help="batch passes (best kept)")
    parser.add_argument("--batch-size", type=int, default=None, help="texts per forward")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    command = "python -m eval.classifier_bench " + " ".join(argv or sys.argv[1:])

    texts = [e.text for e in read_jsonl(args.adapter / "heldout_sample.jsonl")]
    result: dict[str, Any] = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"torch {torch.__version__} with {torch.get_num_threads()} threads",
        "load_average_before": os.getloadavg(),
        "texts": len(texts),
        "mean_chars": round(sum(map(len, texts)) / len(texts), 1),
    }
    for name in PRECISIONS:
        start = time.perf_counter()
        classifier = Classifier.load(args.adapter, precision=name)
        if args.batch_size:
            classifier.batch_size = args.batch_size
        load_s = time.perf_counter() - start
        result[name] = {"load_s": round(load_s, 1), "batch_size": classifier.batch_size}
        result[name] |= bench(classifier, texts, args.single, args.repeats)
    result["load_average_after"] = os.getloadavg()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "classifier_bench.json").write_text(json.dumps(result, indent=2) + "\n")
    rows = [
        "# Validity classifier latency",
        "",
        f"Command: `{command}`  ",
        f"Machine: {result['machine']}; load average before/after "
        f"{result['load_average_before']} / {result['load_average_after']} "
        "(other jobs share the cores when it is above ~0.5).",
        f"Texts: {result['texts']} held-out examples, "
        f"{result['mean_chars']} characters on average.",
        "",
        "| model | load s | single p50 ms | single p95 ms | batch addresses/s (best) | median |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name in PRECISIONS:
        m = result[name]
        rows.append(
            f"| {name} | {m['load_s']} | {m['single_p50_ms']} | {m['single_p95_ms']} "
            f"| {m['batch_per_s']} | {m['batch_per_s_median']} |"
        )
    (args.out / "classifier_bench.md").write_text("\n".join(rows) + "\n")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
