"""The feedback benchmark's report: Markdown tables and a chart of the rounds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.ticker import MaxNLocator

from eval._common import met, pyplot, save_figure


def _f(value: float | None, spec: str = ".3f") -> str:
    return "—" if value is None else f"{value:{spec}}"


def _ms(figures: dict[str, float] | None) -> str:
    return "—" if figures is None else f"{figures['p50']:.1f} / {figures['p95']:.1f}"


def target_rows(r: dict[str, Any]) -> list[tuple[str, str, str, bool]]:
    """(measure, target, measured, met) for each target of the benchmark."""
    final, lat, db, ok = r["final"], r["latency_ms"], r["database"], r["met"]
    check = r["observed_check"]["feedback"]
    t = r["targets"]
    return [
        (
            "delivery_risk ROC-AUC, last fifth of the orders (baseline)",
            f"≥ {t['risk_auc']} and above the baseline",
            f"{_f(final['feedback']['risk_auc'])} ({_f(final['baseline']['risk_auc'])})",
            ok["risk_auc"],
        ),
        (
            "feedback p95",
            f"≤ {t['feedback_p95_ms']:g} ms",
            _f(None if lat["feedback"] is None else lat["feedback"]["p95"], ".1f") + " ms",
            ok["feedback_p95_ms"],
        ),
        (
            "verify p95, after a feedback post",
            f"≤ {t['verify_p95_ms']:g} ms",
            _f(
                None
                if lat["verify_after_feedback"] is None
                else lat["verify_after_feedback"]["p95"],
                ".1f",
            )
            + " ms",
            ok["verify_p95_ms"],
        ),
        (
            "events lost / doubled after kill -9",
            "0 / 0",
            f"{db['lost']} / {db['doubled']}",
            ok["lost"] and ok["doubled"],
        ),
        (
            "unlisted addresses in covered ZIPs uncertain only for lack of a row",
            "0",
            f"{check['uncertain_for_lack_of_row']} of {check['n']}",
            ok["observed_uncertain"],
        ),
    ]


def markdown(r: dict[str, Any], chart: str) -> str:
    """The results as Markdown, with the chart file ``chart`` beside it."""
    d, build, crash, events = r["data"], r["index_build"], r["crash"], r["events"]
    final, db, lat = r["final"], r["database"], r["latency_ms"]

    def len_of(kind: str) -> int:
        return int(r["latency_n"][kind])

    lines = [
        "# Delivery feedback benchmark",
        "",
        f"Command: `{r['command']}`  ",
        f"Date: {r['date']}; commit `{r['git']}`  ",
        f"Machine: {r['machine']['cpus']} cores ({r['machine']['platform']}, Python "
        f"{r['machine']['python']}); load average (1/5/15 min) before "
        f"{r['load_average_before']}, after {r['load_average_after']}.",
        "",
        f"Data: {d['reference'] + d['customers'] + d['check']:,} real addresses of "
        f"`{d['file']}` ({d['split']} split: {d['split_rule']}). {d['reference']:,} form a "
        f"reference index declared `{build['completeness']}` (built in {build['seconds']} s); "
        f"{d['customers']} others are customers: "
        + ", ".join(f"{n} {k}" for k, n in sorted(d["customer_truth"].items()))
        + " (bad: "
        + ", ".join(f"{n} {k}" for k, n in sorted(d["bad_made"].items()))
        + "). "
        "A delivery fails with probability "
        + ", ".join(f"{p} ({k})" for k, p in d["fail_p"].items())
        + f". {d['orders']:,} orders in {d['rounds']} rounds, {d['failed_orders']} failed; "
        f"seed {r['seed']}.  ",
        f"Servers: feedback {r['workers']['feedback']} workers (ready after "
        f"{r['ready_s']['feedback']} s), baseline {r['workers']['baseline']} worker with an "
        f"empty outcome database that is sent no event (ready after {r['ready_s']['baseline']} "
        "s); each order is verified on both, then its outcome is posted to the feedback server.",
        "",
        "| measure | target | measured | |",
        "|---|---|---|---|",
        *[f"| {m} | {t} | {v} | {met(ok)} |" for m, t, v, ok in target_rows(r)],
        "",
        f"Over rounds {final['rounds'][0]}–{final['rounds'][-1]}: ROC-AUC difference "
        f"{_f(final['risk_auc_difference'], '+.3f')} over the baseline; a predictor that knew "
        f"each address's true failure probability would score {final['oracle_risk_auc']}. "
        f"Verdict accuracy (good and hot spots not invalid, bad not valid) "
        f"{_f(final['feedback']['verdict_accuracy'])} vs "
        f"{_f(final['baseline']['verdict_accuracy'])}"
        f"; known-good coverage {_f(final['feedback']['known_good_coverage'])} vs "
        f"{_f(final['baseline']['known_good_coverage'])}; valid at premise after an "
        f"acknowledged delivery {_f(final['feedback']['known_good_after_a_delivery'])} "
        f"({final['feedback']['after_a_delivery']} verifies; by kind "
        + ", ".join(
            f"{k} {v}" for k, v in final["feedback"]["known_good_after_a_delivery_by_kind"].items()
        )
        + ").",
        "",
        "Latency p50 / p95 ms (n) outside the crash round: feedback posts "
        + "; ".join(
            f"{label} {_ms(lat[kind])} ({len_of(kind)})"
            for label, kind in (
                ("all", "feedback"),
                ("that added a known-good address", "feedback_adding_known_good"),
                ("the others", "feedback_other"),
            )
        )
        + f". Verifies on the feedback server after a post {_ms(lat['verify_after_feedback'])}"
        f" (after one that added a known-good address "
        f"{_ms(lat['verify_after_known_good_added'])}); "
        f"the baseline's verifies of the same orders, interleaved, {_ms(lat['baseline_verify'])}."
        f" {events['with_courier_location']} events carried a courier location (sent with a "
        "delivery whose verify answered a premise point).",
        "",
        "## Per round",
        "",
        "Coverage: share of the round's verifies answered `valid` at `premise`; after a "
        "delivery: the same share among verifies of addresses with an acknowledged delivery "
        "before (feedback server). Accuracy and AUC as above. Latency p50 / p95 in ms on the "
        "feedback server.",
        "",
        "| round | orders | coverage | baseline | after a delivery | accuracy | baseline | AUC | "
        "baseline | feedback ms | verify ms | baseline verify ms |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in r["rounds"]:
        fb, bl = row["feedback"], row["baseline"]
        lines.append(
            f"| {row['round']}{' (kill -9)' if row['crash'] else ''} | {fb['n']} | "
            f"{_f(fb['known_good_coverage'])} | {_f(bl['known_good_coverage'])} | "
            f"{_f(fb['known_good_after_a_delivery'])} ({fb['after_a_delivery']}) | "
            f"{_f(fb['verdict_accuracy'])} | {_f(bl['verdict_accuracy'])} | "
            f"{_f(fb['risk_auc'])} | {_f(bl['risk_auc'])} | "
            f"{_ms(row['feedback_latency_ms'])} | {_ms(row['verify_latency_ms'])} | "
            f"{_ms(row['baseline_verify_latency_ms'])} |"
        )
    by_kind = final["feedback"]["verdict_accuracy_by_kind"]
    base_kind = final["baseline"]["verdict_accuracy_by_kind"]
    check, base_check = r["observed_check"]["feedback"], r["observed_check"]["baseline"]
    lines += [
        "",
        "Verdict accuracy by kind of address over the last fifth (baseline): "
        + ", ".join(f"{k} {_f(v)} ({_f(base_kind.get(k))})" for k, v in by_kind.items())
        + ".",
        "",
        "## Crash and durability",
        "",
        f"Round {crash['round']}: {crash['events']} events posted by two threads (single "
        f"events and batches of 10); the server's process tree was killed with SIGKILL after "
        f"{crash['acknowledged_before_kill']} were acknowledged, restarted on the same database "
        f"(ready after {crash['restart_ready_s']} s), and the {crash['unanswered_resent']} "
        "events without an answer sent again with their event ids: "
        + (", ".join(f"{n} {k}" for k, n in sorted(crash["resent_statuses"].items())) or "none")
        + ".  ",
        f"Acknowledged over the run: {events['acknowledged']:,} events ("
        + ", ".join(f"{n:,} {k}" for k, n in sorted(events["statuses"].items()))
        + f"), {events['known_good_added']} known-good addresses added. In the database: "
        + "; ".join(
            f"`{t}` {v['rows']:,} rows, {v['distinct_event_ids']:,} event ids"
            for t, v in db["tables"].items()
        )
        + f". Lost {db['lost']}, doubled {db['doubled']}, stored but never acknowledged "
        f"{db['unacknowledged_stored']}.",
        "",
        "## Observed reference: addresses it lacks",
        "",
        f"{check['n']} real addresses in ZIP codes the reference covers, in neither the "
        f"reference nor the stream, verified after the stream. Feedback server: "
        + ", ".join(f"{n} {k}" for k, n in check["verdicts"].items())
        + f"; held back at uncertain for lack of a row (the classifier called it valid, "
        f"`unknown_address` the only reason): {check['uncertain_for_lack_of_row']}; "
        f"uncertain because the classifier doubted it (below 0.9): "
        f"{check['uncertain_classifier_unsure']} ("
        f"{check['uncertain_for_lack_of_row_street_in_reference']} of them on a street the "
        f"reference holds in that ZIP code, as {check['street_in_reference']} of the "
        f"{check['n']} are). Baseline: "
        + ", ".join(f"{n} {k}" for k, n in base_check["verdicts"].items())
        + f"; {base_check['uncertain_for_lack_of_row']}. Requests and answers of the first "
        "ones: `observed_check.feedback.examples` in the JSON.",
    ]
    if events["off_contract"]:
        lines += [
            "",
            f"**Answers off the contract**: {events['off_contract']} feedback posts; "
            "see `events.off_contract_examples` in the JSON.",
        ]
    lines += ["", f"![delivery_risk ROC-AUC and coverage per round]({chart})", ""]
    return "\n".join(lines)


def plot(r: dict[str, Any], seconds: dict[str, list[float]], path: Path) -> None:
    """ROC-AUC and known-good coverage per round, feedback server vs baseline, and the
    latency of feedback posts and of the verifies after them."""
    plt = pyplot()
    fig, (auc, cover, times) = plt.subplots(1, 3, figsize=(15, 3.6))
    rounds = [row["round"] for row in r["rounds"]]
    for server, style in (("feedback", "-o"), ("baseline", "--s")):
        auc.plot(
            rounds,
            [row[server]["risk_auc"] or float("nan") for row in r["rounds"]],
            style,
            label=server,
        )
        cover.plot(
            rounds, [row[server]["known_good_coverage"] for row in r["rounds"]], style, label=server
        )
    auc.axhline(r["targets"]["risk_auc"], color="#cc3311", linestyle=":", label="target")
    auc.axhline(r["final"]["oracle_risk_auc"], color="#777777", linestyle="-.", label="oracle")
    auc.axvline(r["crash"]["round"], color="#222222", linewidth=0.8, label="kill -9")
    auc.set(title="delivery_risk ROC-AUC per round", xlabel="round", ylim=(0.4, 1.0))
    cover.set(title="valid at premise (known-good coverage)", xlabel="round", ylim=(0, 1))
    for kind, target, color in (
        ("feedback", "feedback_p95_ms", "#4477aa"),
        ("verify_after_feedback", "verify_p95_ms", "#ee7733"),
    ):
        ms = np.asarray(seconds[kind]) * 1000
        times.hist(ms, bins=60, range=(0, 200), alpha=0.6, color=color, label=kind)
        times.axvline(r["targets"][target], color=color, linestyle=":")
    times.set(title="latency on the feedback server (targets dotted)", xlabel="ms (0-200)")
    for ax in (auc, cover):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    for ax in (auc, cover, times):
        ax.legend(fontsize=8)
    save_figure(fig, path)
