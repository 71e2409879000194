"""The evaluation report: run every benchmark, then write ``eval/REPORT.md``.

``all`` runs each stage's benchmark (each writes its own results under
``eval/results/``) and then renders; ``render`` only rebuilds the report (and
the README's "Measured" block) from the results already there. The report
states the machine, the date, the commit and, per figure, the results file and
the command that made it.

Run (2 cores; ``all`` takes about 2.5 hours, most of it building the 2M index)::

    make eval                                   # = addr eval all
    .venv/bin/python -m eval.report all --only index service
    .venv/bin/python -m eval.report render      # = addr eval report
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "eval" / "results"
REPORT = REPO / "eval" / "REPORT.md"
README = REPO / "README.md"
# README blocks the report rewrites: <!-- report:NAME --> … <!-- /report:NAME -->
README_BLOCK = "<!-- report:{} -->", "<!-- /report:{} -->"

# name -> (module and arguments, minutes it takes on 2 cores, what it measures)
STAGES: dict[str, tuple[list[str], int, str]] = {
    "scale": (
        ["eval.bench_scale"], 100,
        "default index build and search vs brute force, int8 vs fp32, Hamilton 242k, "
        "synthetic 2M (IVF-PQ)",
    ),
    "datasets": (["eval.datasets_eval"], 20, "suggest, autocomplete, verify on ../shared/datasets"),
    "production": (
        ["eval.bench_production"], 6,
        "production-shaped verify requests (extras, units, fields), new code vs 360ff93",
    ),
    "classifier": (["eval.classifier_eval"], 25, "classifier vs rules and zero-shot"),
    "classifier_speed": (["eval.classifier_bench"], 5, "classifier latency and throughput"),
    "service": (["eval.bench_service"], 5, "HTTP latency, one client"),
    "load": (["eval.load.run"], 15, "checkout mix at the highest rate held"),
    "careless": (["eval.load.run", "--careless"], 8, "goodput with clients that hang up"),
    "hostile": (["eval.bench_hostile"], 6, "dropped batches, first requests, slow sockets"),
    "bulk": (["eval.bench_bulk", "--rows", "100000", "--workers", "2"], 12, "bulk throughput"),
    "audit": (["eval.audit"], 2, "dependency vulnerability check"),
    "location": (["eval.bench_location"], 2, "where verify places known and unindexed addresses"),
    "feedback": (
        ["eval.bench_feedback"], 10,
        "delivery outcomes fed back over HTTP: delivery_risk vs a baseline, kill -9 mid-stream",
    ),
}  # fmt: skip


def run_stages(names: list[str]) -> dict[str, float]:
    """Run the named stages in order; returns minutes each took."""
    took: dict[str, float] = {}
    for name in names:
        module, minutes, what = STAGES[name]
        print(f"== {name}: {what} (about {minutes} min)", flush=True)
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", *module], cwd=REPO, check=True)
        took[name] = round((time.perf_counter() - start) / 60, 1)
    return took


# ------------------------------------------------------------------ reading


def _load(name: str) -> dict[str, Any] | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def _body(name: str) -> str | None:
    """A results Markdown file without its level-1 title, headings one level down."""
    path = RESULTS / f"{name}.md"
    if not path.exists():
        return None
    lines = path.read_text(encoding="utf-8").splitlines()
    out = []
    for line in lines:
        if line.startswith("# "):
            continue
        out.append("#" + line if line.startswith("##") else line)
    text = "\n".join(out).strip()
    # Links and images inside a results file are relative to eval/results/.
    return text.replace("](", "](results/").replace("](results/http", "](http")


def _disk_mb(path: Path) -> float | None:
    if not path.exists():
        return None
    return round(sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20)


def _commit() -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
    )
    return done.stdout.strip() or "unknown"


def _machine() -> str:
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({model}), {memory:.0f} GB memory, {platform.platform()}"


# ------------------------------------------------------------------ targets


def _fmt(value: float | None, spec: str = ".3f", unit: str = "") -> str:
    return "not run" if value is None else f"{value:{spec}}{unit}"


def _get(data: dict[str, Any] | None, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


Target = tuple[str, str, str, str, Callable[[], bool | None]]


def targets(r: dict[str, dict[str, Any] | None]) -> list[Target]:
    """(area, measure, target, measured, met?) for every stated target."""
    idx, scale = r["index_benchmark_default"], r["index_scale"]
    ham = _get(scale, "sets", "hamilton")
    syn = _get(scale, "sets", "synthetic2m")
    ce, cb = r["classifier_eval"], r["classifier_bench"]
    svc, load, bulk = r["service_benchmark"], r["load_test"], r["bulk_benchmark"]
    careless, hostile = r["load_careless"], r["hostile"]
    feedback = r["feedback_benchmark"]
    located = _get(r["location_benchmark"], "results") or {}
    production = _get(r["production"], "targets_rows") or []

    def val(x: Any) -> float | None:
        return None if x is None else float(x)

    def ge(x: float | None, t: float) -> Callable[[], bool | None]:
        return lambda: None if x is None else x >= t

    def le(x: float | None, t: float) -> Callable[[], bool | None]:
        return lambda: None if x is None else x <= t

    top1, top5 = val(_get(idx, "search", "top1")), val(_get(idx, "search", "top5"))
    ac50 = val(_get(idx, "autocomplete", "by_prefix", "50%", "recall_at_5"))
    ac95 = val(_get(idx, "autocomplete", "latency_ms", "p95"))
    build = val(_get(scale, "sets", "default", "build_seconds"))
    h1, h5 = val(_get(ham, "search", "top1")), val(_get(ham, "search", "top5"))
    hbase, hspeed = val(_get(ham, "baseline", "top1")), val(_get(ham, "baseline", "speedup_median"))
    h_ours = val(_get(ham, "baseline", "top1_difference"))
    lora = _get(ce, "sets")
    held_f1 = val(_get(lora, "heldout", "lora", "valid_f1"))
    other_f1 = {c: val(_get(lora, c, "lora", "valid_f1")) for c in ("uk", "de", "fr")}
    worst_other = min((v for v in other_f1.values() if v is not None), default=None)
    # The same model told nothing by the gazetteer: what the text alone gives.
    held_text = val(_get(lora, "heldout", "lora_text_only", "valid_f1"))
    other_text = {c: val(_get(lora, c, "lora_text_only", "valid_f1")) for c in ("uk", "de", "fr")}
    macro = {m: val(_get(lora, "other", m, "macro_f1")) for m in ("lora", "rules", "zeroshot")}
    beats = (
        None
        if None in macro.values()
        else (macro["lora"] or 0) > max(macro["rules"] or 0, macro["zeroshot"] or 0)
    )
    single95, per_s = val(_get(cb, "bf16", "single_p95_ms")), val(_get(cb, "bf16", "batch_per_s"))
    svc_ac, svc_v = (
        val(_get(svc, "autocomplete", "latency_ms", "p95")),
        val(_get(svc, "verify", "latency_ms", "p95")),
    )
    svc_b = val(_get(svc, "batch", "latency_ms", "p95"))
    rate = val(_get(load, "highest_rate_held"))
    growth = val(_get(load, "memory", "growth_mb"))
    slope = val(_get(load, "memory", "slope_mb_per_min"))
    bulk_rate = val(_get(bulk, "throughput", "summary", "rows_per_s_after_load"))
    goodput = val(_get(careless, "goodput_ratio"))
    careless_5xx = _get(careless, "mixes", "careless", "status_5xx")
    dropped_cpu = val(_get(hostile, "dropped", "dropped_cpu_s"))
    first_ratios = [s["ratio"] for s in _get(hostile, "first_after_ready") or []]
    first_ratio = max(first_ratios) if first_ratios else None
    slow = _get(hostile, "slow_sockets") or {}
    slowest = max((v["closed_after_s"] or float("inf") for v in slow.values()), default=None)
    premise_ok = val(_get(located, "known_good_iceland", "premise_within_100m"))
    unindexed_ok = val(_get(located, "unindexed_iceland", "within_25km"))
    fb_auc = val(_get(feedback, "final", "feedback", "risk_auc"))
    fb_base = val(_get(feedback, "final", "baseline", "risk_auc"))
    fb_post = val(_get(feedback, "latency_ms", "feedback", "p95"))
    fb_verify = val(_get(feedback, "latency_ms", "verify_after_feedback", "p95"))
    fb_lost, fb_doubled = _get(feedback, "database", "lost"), _get(feedback, "database", "doubled")
    fb_uncertain = _get(feedback, "observed_check", "feedback", "uncertain_for_lack_of_row")
    return [
        ("index", "search top-1 / top-5, default held-out", "≥ 0.95 / ≥ 0.99",
         f"{_fmt(top1)} / {_fmt(top5)}",
         lambda: None if top1 is None or top5 is None else top1 >= 0.95 and top5 >= 0.99),
        ("index", "search top-1 / top-5, Hamilton 242k", "≥ 0.95 / ≥ 0.99",
         f"{_fmt(h1)} / {_fmt(h5)}",
         lambda: None if h1 is None or h5 is None else h1 >= 0.95 and h5 >= 0.99),
        ("index", "vs brute-force WRatio at 242k: top-1 difference, speed-up", "≥ 0, ≥ 50×",
         f"{_fmt(h_ours, '+.3f')} (WRatio {_fmt(hbase)}), {_fmt(hspeed, '.0f', '×')}",
         lambda: None if h_ours is None or hspeed is None else h_ours >= 0 and hspeed >= 50),
        ("index", "autocomplete recall@5 at 50 % typed", "≥ 0.90", _fmt(ac50), ge(ac50, 0.90)),
        ("index", "autocomplete p95 in-process", "≤ 15 ms", _fmt(ac95, ".2f", " ms"),
         le(ac95, 15)),
        ("index", "default index build (`addr index build`, 234k rows)", "≤ 8 min",
         _fmt(None if build is None else build / 60, ".1f", " min"),
         le(None if build is None else build / 60, 8)),
        ("index", "synthetic 2M IVF-PQ: search top-1, p95",
         "(scale note)",
         f"{_fmt(val(_get(syn, 'search', 'top1')))}, "
         f"{_fmt(val(_get(syn, 'search', 'latency_ms', 'p95')), '.1f', ' ms')}",
         lambda: None),
        ("classifier", "valid F1 of the model (reading the gazetteer's word), held-out region",
         "≥ 0.97", _fmt(held_f1), ge(held_f1, 0.97)),
        ("classifier", "valid F1 of the model, UK / DE / FR", "≥ 0.93 each",
         " / ".join(_fmt(v) for v in other_f1.values()), ge(worst_other, 0.93)),
        ("classifier", "valid F1 with the gazetteer's word withheld: held-out; UK / DE / FR",
         "(ablation)",
         f"{_fmt(held_text)}; " + " / ".join(_fmt(v) for v in other_text.values()),
         lambda: None),
        ("classifier", "macro-F1 UK+DE+FR: LoRA / rules / zero-shot", "LoRA best",
         " / ".join(_fmt(v) for v in macro.values()), lambda: beats),
        ("classifier", "single address p95; batch throughput", "≤ 40 ms; ≥ 200/s",
         f"{_fmt(single95, '.1f', ' ms')}; {_fmt(per_s, '.0f', '/s')}",
         lambda: None if single95 is None or per_s is None else single95 <= 40 and per_s >= 200),
        ("service", "autocomplete p95 over HTTP", "≤ 25 ms", _fmt(svc_ac, ".1f", " ms"),
         le(svc_ac, 25)),
        ("service", "verify p95 over HTTP", "≤ 80 ms", _fmt(svc_v, ".1f", " ms"), le(svc_v, 80)),
        ("service", "batch of 100 p95", "≤ 1.5 s",
         _fmt(None if svc_b is None else svc_b / 1000, ".2f", " s"),
         le(None if svc_b is None else svc_b / 1000, 1.5)),
        ("service", "CPU on three dropped 1,000-address batches", "≤ 2 s",
         _fmt(dropped_cpu, ".2f", " s"), le(dropped_cpu, 2.0)),
        ("service", "first 20 verifies after ready: p99 / steady p99 (worst start)", "≤ 2×",
         _fmt(first_ratio, ".2f", "×"), le(first_ratio, 2.0)),
        ("service", "slow sockets closed (idle, slow headers, short or endless body)",
         "within the limits (10 s; keep-alive 5 s)", _fmt(slowest, ".1f", " s at most"),
         le(slowest, 10.5)),
        ("load", "highest checkout rate held 3 min (p99 autocomplete ≤ 100 ms, 0 errors)",
         "report", _fmt(rate, ".0f", " req/s"), lambda: None if rate is None else True),
        ("load", "memory growth over the run (last minute vs first; trend)",
         "flat: < 200 MB, < 20 MB/min",
         f"{_fmt(growth, '+.0f', ' MB')}; {_fmt(slope, '+.0f', ' MB/min')}",
         lambda: None if growth is None or slope is None else abs(growth) < 200 and slope < 20),
        ("load", "goodput with 10 % of clients hanging up on batches, vs clean; 5xx",
         "≥ 0.90; 0", f"{_fmt(goodput, '.2f')}; {_fmt(careless_5xx, '.0f')}",
         lambda: None if goodput is None else goodput >= 0.90 and careless_5xx == 0),
        ("bulk", "rows/s, 2 workers, after load", "≥ 300", _fmt(bulk_rate, ".0f"),
         ge(bulk_rate, 300)),
        ("location", "known-good addresses answered premise: within 100 m of their point",
         "1.000", _fmt(premise_ok), ge(premise_ok, 1.0)),
        ("location", "addresses taken out of the index: located within 25 km", "1.000",
         _fmt(unindexed_ok), ge(unindexed_ok, 1.0)),
        ("feedback", "delivery_risk ROC-AUC after the stream (baseline without feedback)",
         "≥ 0.85, above the baseline", f"{_fmt(fb_auc)} ({_fmt(fb_base)})",
         lambda: _get(feedback, "met", "risk_auc")),
        ("feedback", "p95 of a feedback post; of the verify that follows", "≤ 20 ms; ≤ 80 ms",
         f"{_fmt(fb_post, '.1f', ' ms')}; {_fmt(fb_verify, '.1f', ' ms')}",
         lambda: None if fb_post is None or fb_verify is None
         else fb_post <= 20 and fb_verify <= 80),
        ("feedback", "events lost / doubled after kill -9 mid-stream", "0 / 0",
         f"{_fmt(fb_lost, '.0f')} / {_fmt(fb_doubled, '.0f')}",
         lambda: None if fb_lost is None else fb_lost == 0 and fb_doubled == 0),
        ("feedback", "unlisted addresses uncertain for lack of a row, observed reference", "0",
         _fmt(fb_uncertain, ".0f"), lambda: None if fb_uncertain is None else fb_uncertain == 0),
        *[("production", figure, target, f"{new} (before: {before})", lambda met=met: met)
          for figure, new, before, target, met in production],
    ]  # fmt: skip


def _met(flag: bool | None) -> str:
    return {True: "met", False: "**missed**", None: "—"}[flag]


# ------------------------------------------------------------------ render

RESULT_NAMES = (
    "index_benchmark_default",
    "index_scale",
    "datasets_eval",
    "production",
    "classifier_eval",
    "classifier_bench",
    "service_benchmark",
    "load_test",
    "load_careless",
    "hostile",
    "bulk_benchmark",
    "location_benchmark",
    "feedback_benchmark",
)


def _section(title: str, name: str, intro: str = "") -> list[str]:
    body = _body(name)
    lines = [f"## {title}", "", f"Results: [results/{name}.md](results/{name}.md)", ""]
    if intro:
        lines += [intro, ""]
    return [*lines, body if body is not None else "_Not run yet._", ""]


def render() -> str:
    """Write eval/REPORT.md and the README's measured block; returns the report."""
    from address.settings import get_settings

    r = {name: _load(name) for name in RESULT_NAMES}
    rows = targets(r)
    settings = get_settings()
    footprint = {
        "libpostal data": _disk_mb(settings.libpostal_dir),
        "default index": _disk_mb(settings.index_dir),
        "reference table": _disk_mb(settings.reference_table.parent),
        "virtual environment": _disk_mb(REPO / ".venv" / "lib"),
    }
    table = [
        "| area | measure | target | measured | |",
        "|---|---|---|---|---|",
        *[f"| {a} | {m} | {t} | {v} | {_met(ok())} |" for a, m, t, v, ok in rows],
    ]
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Evaluation report",
        "",
        f"Rendered {now} at commit `{_commit()}` on {_machine()}.  ",
        "Regenerate: `make eval` (every benchmark, then this report) or "
        "`addr eval report` (this report from the results already in `eval/results/`). "
        "Each section names its results file; each results file names the command, date and "
        "machine load it was measured with.",
        "",
        "## Targets at a glance",
        "",
        *table,
        "",
        "## Footprint on disk",
        "",
        "| what | MB |",
        "|---|---|",
        *[f"| {k} | {_fmt(v, ',.0f')} |" for k, v in footprint.items()],
        "",
        *_section(
            "Suggestions and autocomplete: default index",
            "index_benchmark_default",
            "234,565 known-good addresses (Linn County, Iowa and Iceland); queries are "
            "corrupted rows of the half no tuning looked at.",
        ),
        *_section("The index at scale", "index_scale"),
        *_section(
            "Accuracy on other datasets",
            "datasets_eval",
            "Real address sets from other sources and countries (`../shared/datasets/`); "
            "none of them is in any training data.",
        ),
        *_section(
            "Production-shaped requests: new code vs the code before",
            "production",
            "Held-out real addresses with names, phone numbers, e-mails and instructions "
            "around them, units anywhere, and structured fields; each request verified by the "
            "checked-out code and by the code at 360ff93 in the same run.",
        ),
        *_section("Validity classifier", "classifier_eval"),
        *_section("Classifier speed", "classifier_bench"),
        *_section("Service latency", "service_benchmark"),
        *_section("Load test", "load_test"),
        *_section("Load test: careless clients", "load_careless"),
        *_section("Hostile and careless clients", "hostile"),
        *_section("Bulk cleaning", "bulk_benchmark"),
        *_section("Locations", "location_benchmark"),
        *_section(
            "Delivery feedback",
            "feedback_benchmark",
            "Real Hamilton County addresses ordered to again and again over HTTP, each "
            "delivery's outcome posted back; a second server over the same observed reference "
            "is never told an outcome.",
        ),
        *_section("Dependency audit", "dependency_audit"),
    ]
    report = "\n".join(lines).rstrip() + "\n"
    REPORT.write_text(report, encoding="utf-8")
    source = f"From [eval/REPORT.md](eval/REPORT.md), rendered {now} on 2 cores:"
    _update_readme({"measured": [source, "", *table], "scale": [source, "", *_scale_table()]})
    return report


def _scale_table() -> list[str]:
    """The scale table of index_scale.md (its first table), or a line saying it is missing."""
    body = _body("index_scale")
    if body is None:
        return ["_The scale benchmark has not been run (`addr eval all --only scale`)._"]
    table = [line for line in body.splitlines() if line.startswith("|")]
    return [line.replace("](results/", "](eval/results/") for line in table]


def _update_readme(blocks: dict[str, list[str]]) -> None:
    """Replace each ``<!-- report:NAME -->`` block of the README with fresh lines."""
    text = README.read_text(encoding="utf-8")
    for name, lines in blocks.items():
        start, end = (marker.format(name) for marker in README_BLOCK)
        if start not in text or end not in text:
            continue
        head, rest = text.split(start, 1)
        text = head + "\n".join([start, *lines, end]) + rest.split(end, 1)[1]
    README.write_text(text, encoding="utf-8")


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("what", choices=("all", "render"))
    parser.add_argument("--only", nargs="+", choices=sorted(STAGES), default=None)
    parser.add_argument("--skip", nargs="+", choices=sorted(STAGES), default=[])
    args = parser.parse_args()
    if args.what == "all":
        names = [n for n in (args.only or list(STAGES)) if n not in args.skip]
        took = run_stages(names)
        print(json.dumps({"minutes": took}))
    print(render())


if __name__ == "__main__":
    main()
