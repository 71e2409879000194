"""The results as Markdown, one function per section, and as a chart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from eval._common import pyplot, save_figure
from eval.datasets_eval_suggest import (
    BASELINE,
    CHICAGO,
    DE,
    FORMATTING,
    FR,
    HAMILTON,
    HAMILTON_RESULTS,
    UK,
)
from eval.datasets_eval_verify import VERIFY_CHUNK, VERIFY_MODES

NAME = "datasets_eval"
# Chart labels.
SHORT = {
    FR: "FR/NL/PL geocoder-tester",
    CHICAGO: "Chicago variants",
    DE: "DE OSM",
    UK: "UK address matching",
    HAMILTON: "Hamilton OH\n(read from bench_index)",
}


def _bars(datasets: dict[str, Any]) -> list[tuple[str, float, float]]:
    """(label, ours top-1, baseline top-1) per suggest measure, for the chart and summary."""
    bars = []
    for name, entry in datasets.items():
        suggest, base = entry.get("suggest"), entry.get("baseline", {}).get("suggest")
        if not suggest or not base:
            continue
        if "top1" in suggest:
            ours_top1 = suggest["top1"]
            if name == HAMILTON:  # the baseline ran on a subset: compare on that subset
                ours_top1 = (base.get("ours_on_same_queries") or suggest)["top1"]
            if ours_top1 is not None and base.get("top1") is not None:
                bars.append((name, ours_top1, base["top1"]))
        else:
            for part, result in suggest.items():
                bars.append(
                    (f"{name} ({part.replace('_', ' ')})", result["top1"], base[part]["top1"])
                )
    return bars


def _plot(datasets: dict[str, Any], path: Path) -> None:
    plt = pyplot()
    bars = _bars(datasets)
    if not bars:
        return
    labels = []
    for label, _, _ in bars:
        name, _, part = label.partition(" (")
        labels.append(SHORT.get(name, name) + (f"\n({part}" if part else ""))
    fig, ax = plt.subplots(figsize=(max(6.0, 1.7 * len(bars)), 4.4))
    xs = range(len(bars))
    width = 0.38
    ours = ax.bar([x - width / 2 for x in xs], [b[1] for b in bars], width, label="index.search")
    base = ax.bar(
        [x + width / 2 for x in xs], [b[2] for b in bars], width, label="rapidfuzz WRatio"
    )
    for group in (ours, base):
        for rect in group:
            ax.text(
                rect.get_x() + rect.get_width() / 2,
                rect.get_height() + 0.01,
                f"{rect.get_height():.3f}",
                ha="center",
                fontsize=7,
            )
    ax.set_xticks(list(xs), labels, fontsize=7)
    ax.set_ylim(0, 1.08)
    ax.set_ylabel("suggest top-1")
    ax.set_title("Suggest top-1 per dataset: index vs brute-force WRatio (same queries)")
    ax.legend(fontsize=8, loc="lower right")
    save_figure(fig, path)


def _ms(latency: dict[str, float] | None) -> str:
    if not latency:
        return "-"
    return f"{latency['p50']:.1f} / {latency['p95']:.1f}"


def _suggest_rows(name: str, ours: dict[str, Any], base: dict[str, Any], label: str) -> list[str]:
    return [
        f"| {label} | {ours['n']} | {ours['top1']:.3f} / {ours['top5']:.3f} | "
        f"{base['top1']:.3f} / {base['top5']:.3f} | {_ms(ours['latency_ms'])} | "
        f"{_ms(base['latency_ms'])} | {base['speedup_p50']}x |"
    ]


def markdown(result: dict[str, Any]) -> str:
    """The results file: one section per measure that ran, then how they were made."""
    d = result["datasets"]
    lines = [
        *_introduction(result),
        *_suggest(d),
        *_autocomplete(d),
        *_hamilton(d),
        *_verify(d),
        *_formatting(d),
        *_how_made(d),
    ]
    return "\n".join(lines)


def _introduction(result: dict[str, Any]) -> list[str]:
    """What was measured, the command, machine and date, and the regions never trained on."""
    return [
        "Accuracy of suggest, autocomplete, verify and formatting on real addresses from "
        "`../shared/datasets/` (sources and licences in its README), each beside a plain "
        "baseline measured in the same run.",
        "",
        f"Command: `{result['command']}` ({result['seconds']:.0f} s wall time, "
        f"{result['cpu_seconds']:.0f} s CPU time).  ",
        f"Machine: {result['machine']['cpus']} cores ({result['machine']['platform']}), "
        f"load average {result['machine']['load_average_start']} at the start: the cores "
        "were shared with other jobs, so latencies are contended figures.  ",
        f"Date: {result['date']}; seed {result['seed']}"
        + (f"; code at commit `{result['git_commit']}`" if result.get("git_commit") else "")
        + ("; **quick smoke run (tiny samples)**" if result["quick"] else "")
        + ".",
        "",
        "## Regions never in training",
        "",
        "The validity classifier trains on US (Linn County, Iowa) and Icelandic reference "
        "data only, and the default index holds only those two regions. **UK, German, French "
        "(and the few Dutch/Polish), Chicago and Hamilton County addresses were never in any "
        "training**, and no setting of the index or the classifier was tuned on them. The "
        "suggest and autocomplete figures below use small indexes built in this run from each "
        "dataset's own addresses; verify uses the default index (US-IA + IS), where none of "
        "these addresses is, so its verdicts rest on the rules and the classifier.",
        "",
    ]


def _suggest(d: dict[str, Any]) -> list[str]:
    """Suggest: the index against brute force, overall and by query kind."""
    if not _bars(d):
        return []
    lines: list[str] = []
    lines += [
        "## Suggest: index vs brute force",
        "",
        "Top-1 / top-5 = the right row is first / among the first five. Baseline: "
        f"`{BASELINE}` over the same index rows (rapidfuzz's default: no pre-processing). "
        "Latency in ms, p50 / p95, one query at a time; speed-up = baseline p50 / index "
        "p50.",
        "",
        "| dataset (queries) | n | index top-1 / top-5 | WRatio top-1 / top-5 "
        "| index ms | WRatio ms | speed-up |",
        "|---|---:|---|---|---|---|---:|",
    ]
    for name, entry in d.items():
        suggest, base = entry.get("suggest"), entry.get("baseline", {}).get("suggest")
        if not suggest or not base or name == HAMILTON:
            continue
        if "top1" in suggest:
            rows = entry.get("index_rows")
            lines += _suggest_rows(name, suggest, base, f"{name} ({rows:,} rows)")
        else:
            for part, ours in suggest.items():
                label = f"{name}, {part.replace('_', ' ')} ({entry['index_rows']:,} rows)"
                lines += _suggest_rows(name, ours, base[part], label)
    lines += ["", f"Chart: `{NAME}.png` (top-1 per dataset, index vs baseline).", ""]
    lines += ["### By query kind (index top-1 / WRatio top-1)", ""]
    lines += ["| dataset | kind | n | index top-1 | WRatio top-1 |", "|---|---|---:|---:|---:|"]
    for name, entry in d.items():
        suggest, base = entry.get("suggest"), entry.get("baseline", {}).get("suggest")
        if not suggest or not base or name == HAMILTON:
            continue
        parts = (
            {"": (suggest, base)}
            if "top1" in suggest
            else {p: (suggest[p], base[p]) for p in suggest}
        )
        for part, (ours, theirs) in parts.items():
            for kind, v in ours["by_kind"].items():
                label = f"{name}, {part.replace('_', ' ')}" if part else name
                lines.append(
                    f"| {label} | {kind} | {v['n']} | {v['top1']:.3f} | "
                    f"{theirs['by_kind'][kind]['top1']:.3f} |"
                )
    lines.append("")
    return lines


def _autocomplete(d: dict[str, Any]) -> list[str]:
    """Autocomplete recall@5 per prefix share, index against WRatio."""
    if not any("autocomplete" in e and "by_prefix" in e["autocomplete"] for e in d.values()):
        return []
    lines: list[str] = []
    lines += [
        "## Autocomplete",
        "",
        "Recall@5: the indexed address is among the five suggestions for the first 30 / "
        "50 / 70 % of its characters (at least 3). Baseline: the same WRatio call with the "
        "prefix as query. Latency in ms, p50 / p95 over all prefixes.",
        "",
        "| dataset | n per share | index recall@5 30/50/70 % | WRatio recall@5 30/50/70 % "
        "| index ms | WRatio ms |",
        "|---|---:|---|---|---|---|",
    ]
    for name, entry in d.items():
        ac = entry.get("autocomplete")
        if not ac or "by_prefix" not in ac:
            continue
        base = entry.get("baseline", {}).get("autocomplete")

        def recalls(result: dict[str, Any]) -> str:
            return " / ".join(
                f"{result['by_prefix'][k]['recall_at_5']:.3f}"
                for k in ("30%", "50%", "70%")
                if k in result["by_prefix"]
            )

        n = next(iter(ac["by_prefix"].values()))["n"]
        base_cells = (
            f"{recalls(base)} | {_ms(ac['latency_ms'])} | {_ms(base['latency_ms'])}"
            if base
            else f"- | {_ms(ac.get('latency_ms'))} | -"
        )
        lines.append(f"| {name} | {n} | {recalls(ac)} | {base_cells} |")
    lines.append("")
    fr_prefix = d.get(FR, {}).get("autocomplete", {}).get("by_prefix", {})
    if fr_prefix and fr_prefix["70%"]["recall_at_5"] < fr_prefix["50%"]["recall_at_5"]:
        lines += [
            "French recall falls as more is typed: the autocomplete keys spell an address "
            "number first as `number street town region postcode` and street first as "
            "`street number postcode town`, so a French address typed number first with "
            "the postcode before the town (`34 Avenue de l'Opéra, 75002 Paris`) matches "
            "neither key once the postcode is reached (by hand on a small index: "
            "`34 Avenue de l'Opéra` finds it, `34 Avenue de l'Opéra, 75` finds nothing). "
            "German addresses (`Waldstraße 1, 68642 Bürstadt`) follow the street-first key "
            "and British ones (town before postcode) the number-first key.",
            "",
        ]
    return lines


def _hamilton(d: dict[str, Any]) -> list[str]:
    """The Hamilton County figures read from bench_index, or why there are none."""
    ham = d.get(HAMILTON)
    if not ham:
        return []
    lines: list[str] = []
    lines += ["## Hamilton County, Ohio (242k voter addresses)", ""]
    if ham["status"] == "not run":
        lines += [
            f"Not run: this script does not build the 242k index; "
            f"`eval/results/{HAMILTON_RESULTS.name}` (written by `eval.bench_index` on "
            "that index) was absent when this ran.",
            "",
        ]
    else:
        s, b = ham["suggest"], ham["baseline"]["suggest"]
        same = b.get("ours_on_same_queries") or {}
        lines += [
            f"Read from `eval/results/{HAMILTON_RESULTS.name}` (command: "
            f"`{ham.get('command')}`), not measured by this script: "
            f"{ham.get('index_rows')} indexed rows, build {ham.get('build_seconds')} s; "
            f"search top-1 / top-5 {s.get('top1')} / {s.get('top5')} on {s.get('n')} "
            f"corrupted queries, latency ms p50 / p95 {_ms(s.get('latency_ms'))}; "
            f"WRatio baseline top-1 / top-5 {b.get('top1')} / {b.get('top5')} on "
            f"{b.get('n')} of those queries (index on the same: {same.get('top1')} / "
            f"{same.get('top5')}), WRatio ms {_ms(b.get('latency_ms'))}, speed-up "
            f"{b.get('speedup_p50')}x at the median; autocomplete recall@5 "
            + ", ".join(
                f"{k} {v['recall_at_5']}" for k, v in ham["autocomplete"]["by_prefix"].items()
            )
            + ".",
            "",
        ]
    return lines


def _verify(d: dict[str, Any]) -> list[str]:
    """Verify against the rules alone on the UK, German and French sets."""
    verify_sets = {n: e for n, e in d.items() if "verify" in e}
    if not verify_sets:
        return []
    lines: list[str] = []
    lines += [
        "## Verify on UK, German and French addresses",
        "",
        "Positives: real addresses of each dataset as written (those libpostal reads as "
        "number + street + town, as in `eval.classifier_eval`); negatives: the same "
        "addresses broken by `eval.classifier_eval`'s generators (number, street or town "
        "dropped, another town's postcode, cut short, not an address, gibberish). Ours: "
        "`address.verify.verify_batch(texts, country, searcher=default index, "
        "classifier=shipped adapter)`, as the service calls it, in batches of "
        f"{VERIFY_CHUNK}, once with the country given (as a checkout that knows it sends "
        "it) and once without (the service then detects it, falling back to US). Baseline: "
        "rules only (libpostal, then `address.rules.check`; no reason = valid), the same "
        "two ways (without a country, for the one `address.rules.detect_country` finds). The "
        "positives were chosen as those libpostal reads as number + street + town, the very "
        "reading the rules check, so the rules can hardly reject them: the rules' figures "
        "on positives are an upper bound.",
        "",
        "`uncertain` is kept apart, three ways: **decided accuracy** is the share right "
        "among valid/invalid verdicts (uncertain left out), with **coverage** the share "
        "that got one; **strict** counts uncertain as wrong; **accept** treats uncertain as "
        "not accepted (a checkout that accepts only `valid`). The rules baseline never says "
        "uncertain, so its three accuracies are equal.",
        "",
        "| dataset | country | method | n pos / neg | positives valid / uncertain / invalid "
        "| negatives valid / uncertain / invalid | coverage | decided acc. | strict acc. "
        "| accept acc. |",
        "|---|---|---|---|---|---|---:|---:|---:|---:|",
    ]
    for name, entry in verify_sets.items():
        for mode in VERIFY_MODES:
            for method, v in (
                ("verify", entry["verify"][mode]),
                ("rules only", entry["baseline"]["verify"][mode]),
            ):
                p, ng = v["positives"], v["negatives"]
                lines.append(
                    f"| {name} | {mode.replace('_', ' ')} | {method} | {p['n']} / {ng['n']} "
                    f"| {p['valid']:.3f} / {p['uncertain']:.3f} / {p['invalid']:.3f} "
                    f"| {ng['valid']:.3f} / {ng['uncertain']:.3f} / {ng['invalid']:.3f} "
                    f"| {v['coverage']:.3f} | {v['decided_accuracy']:.3f} "
                    f"| {v['strict_accuracy']:.3f} | {v['accept_accuracy']:.3f} |"
                )
    lines += [
        "",
        "Throughput and classifier use (share of addresses the rules and index left to the "
        "classifier), country given: "
        + "; ".join(
            f"{n} {e['verify']['country_given']['addresses_per_s']} addresses/s "
            f"(classifier {e['verify']['country_given']['classifier_used']:.0%})"
            for n, e in verify_sets.items()
        )
        + ". Verdicts per negative kind are in the JSON (`by_label`).",
        "",
    ]
    return lines


def _formatting(d: dict[str, Any]) -> list[str]:
    """Formatting per country against the expected layouts."""
    fmt = d.get(FORMATTING)
    if not fmt:
        return []
    lines: list[str] = []
    f = fmt["formatting"]
    lines += [
        "## Formatting per country",
        "",
        f"{f['n']} OpenCage address-formatting test cases from {fmt['countries']} "
        "countries (skipped: "
        + (", ".join(f"{k}: {v}" for k, v in fmt["skipped"].items()) or "none")
        + "). The target is the expected layout's address lines: lines naming a place "
        "(`Pizza Hut`) or the country, which the test case does not give as components, are "
        "dropped (a line is kept when at least half its words come from the components). "
        "`format_address_line` formats the given components; `standardize` formats "
        "libpostal's parse of the target typed in lower case. **Exact** = equal after case "
        "folding with commas and line breaks as spaces; **token F1** = word-multiset "
        "overlap (precision and recall of words), order ignored. The CSV flattens each "
        "test case to five components (number, road, postcode, city, state), while the "
        "expected layouts also use others (suburb, state abbreviations such as `VIC`, "
        "district): where those appear, no formatter given these five can match exactly.",
        "",
        "| method | exact | token F1 |",
        "|---|---:|---:|",
        f"| format_address_line (components given) | {f['format_address_line']['exact']:.3f} "
        f"| {f['format_address_line']['token_f1']:.3f} |",
        f"| standardize (parse of lower-case text) | {f['standardize']['exact']:.3f} | "
        f"{f['standardize']['token_f1']:.3f} |",
        "",
        "Worst countries (by format_address_line token F1), with their worst case:",
        "",
        "| country | n | line exact | line F1 | standardize F1 | expected | ours |",
        "|---|---:|---:|---:|---:|---|---|",
    ]
    for c in f["worst_countries"]:
        s = f["by_country"][c]
        ex = f["worst_examples"][c]
        lines.append(
            f"| {c} | {s['n']} | {s['format_address_line']['exact']:.2f} | "
            f"{s['format_address_line']['token_f1']:.2f} | "
            f"{s['standardize']['token_f1']:.2f} | {ex['expected']} | "
            f"{ex['format_address_line']} |"
        )
    lines.append("")
    return lines


def _how_made(d: dict[str, Any]) -> list[str]:
    """How each dataset's queries and hits were made."""
    lines = ["## How the figures were made", ""]
    notes = {
        FR: "correct addresses = expected house number + street + town + postcode; the fuzzy "
        "rows come in threes per address (one names the town, one the postcode, one neither), "
        "so town and postcode are merged per address; plain rows likewise per (file, number, "
        "street) where exactly one town and one postcode result. Postal-relay rows (only the "
        "town expected) and rows with no expected number or street are left out (counts in "
        "the JSON). A hit is the row of the query's correct address. The index holds only "
        "these few thousand addresses, so this is easier than a national index.",
        CHICAGO: "spelling = `Address` + `Zip`, whitespace collapsed; one index row per "
        "`True Id` (most frequent spelling, components from libpostal); each other distinct "
        "spelling of the entity is one query; a hit is the row of the same entity.",
        DE: "every row with street, number, postcode and town; the address text as given; "
        "queries: bench_index's corruptions (typo in the street, abbreviation, no postcode, no "
        "town, lower case without punctuation, reordered, extra unit), with `straße`/`str.`, "
        "`platz`/`pl.` as the abbreviation and `Whg. N` as the unit.",
        UK: "a seeded sample of the rows whose text has a house number (as in "
        "eval.classifier_eval), parsed by libpostal into number, street, town and postcode and "
        "formatted in the British layout (the files have free text only); the same "
        "corruptions, with `Flat N, ` in front as the unit. A returned row with the very same "
        "address text counts as a hit.",
    }
    for name, text in notes.items():
        if name in d and "suggest" in d[name]:
            lines.append(f"- **{name}**: {text}")
    lines += [
        "- Indexes are built in this run with `IndexConfig(threads=1)`: a single-threaded "
        "HNSW build gives the same graph every run; all samples are seeded.",
        "",
    ]
    return lines


def write_report(result: dict[str, Any], out: Path) -> None:
    """Write the Markdown and the chart into ``out``, and print the Markdown."""
    text = markdown(result)
    (out / f"{NAME}.md").write_text(text, encoding="utf-8")
    _plot(result["datasets"], out / f"{NAME}.png")
    print(text)
