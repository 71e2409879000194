"""Figures of one side's answers, and the rows of the targets table."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

from eval.production.cases import Request
from eval.production.judge import cross_town, extra_matches, judge_clean, unit_found
from eval.production.noise import KINDS


def _share(flags: Sequence[bool]) -> float | None:
    return round(sum(flags) / len(flags), 4) if flags else None


def _share_of(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _latency(ms: Sequence[float]) -> dict[str, float] | None:
    if len(ms) < 2:
        return None
    cuts = statistics.quantiles(ms, n=100, method="inclusive")
    return {"p50": round(statistics.median(ms), 1), "p95": round(cuts[94], 1)}


def _example(request: Request, answer: dict[str, Any], why: str) -> dict[str, Any]:
    return {
        "dataset": request.address.dataset,
        "input": request.text,
        "why": why,
        "standardized": answer.get("standardized"),
        "components": answer.get("components"),
    }


EXAMPLES_PER_FIGURE = 6
"""Failing examples kept per figure in the JSON."""


def figures(requests: Sequence[Request], answers: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Every figure of one side, with a few failing examples each."""
    examples: dict[str, list[dict[str, Any]]] = defaultdict(list)

    def note(kind: str, request: Request, answer: dict[str, Any], why: str) -> None:
        if len(examples[kind]) < EXAMPLES_PER_FIGURE:
            examples[kind].append(_example(request, answer, why))

    ok = [(r, a) for r, a in zip(requests, answers, strict=True) if a["ok"]]
    errors = Counter(a["error"].split(":")[0] for a in answers if not a["ok"])
    clean: dict[str, list[bool]] = defaultdict(list)
    match_noisy: list[bool] = []
    pairs: dict[int, dict[str, tuple[Request, dict[str, Any]]]] = defaultdict(dict)
    extras = {k: Counter[str]() for k in KINDS}
    units: dict[str, list[bool]] = defaultdict(list)
    units_or_level: list[bool] = []
    suggestions = {c: Counter[str]() for c in ("covered", "outside")}
    plain: dict[str, list[bool]] = defaultdict(list)
    own: dict[str, list[bool]] = defaultdict(list)
    helped: list[bool] = []
    reject_reasons: Counter[str] = Counter()
    verdicts: dict[str, Counter[str]] = defaultdict(Counter)
    latency: dict[str, list[float]] = defaultdict(list)
    for r, a in ok:
        verdicts[f"{r.case}, {r.coverage}"][a["verdict"]] += 1
        latency["all"].append(a["ms"])
        latency[r.coverage].append(a["ms"])
        why = judge_clean(a, r.address, r.noisy)
        clean[r.coverage if r.case == "noisy" else "noise-free"].append(why is None)
        if why is not None:
            note("not clean, " + (r.coverage if r.case == "noisy" else "noise-free"), r, a, why)
        if r.case == "noisy":
            clean[f"{r.coverage}, standardized only"].append(
                judge_clean(a, r.address, r.noisy, components=False) is None
            )
        if r.case == "noisy" and r.address.covered:
            match_noisy.append(a["match"] == r.address.id)
        if r.pair is not None:
            pairs[r.pair][r.case] = (r, a)
        truth = r.noisy.truth if r.noisy else {}
        for kind in KINDS:
            got, placed = a["extras"].get(kind), truth.get(kind)
            right = got is not None and placed is not None and extra_matches(kind, placed, got)
            extras[kind].update(truth=placed is not None, given=got is not None, right=right)
            if placed is not None and not right:
                note(f"extra missed: {kind}", r, a, f"placed {placed!r}, got {got!r}")
            elif got is not None and not right:
                note(f"extra wrong: {kind}", r, a, f"placed {placed!r}, got {got!r}")
        if r.unit_id is not None and r.unit_place is not None:
            found = unit_found(r.unit_id, a["components"], ("unit",))
            units[r.unit_place].append(found)
            units_or_level.append(unit_found(r.unit_id, a["components"], ("unit", "level")))
            if not found:
                note("unit not found", r, a, f"unit {r.unit_id!r} ({r.unit_place})")
        offered = suggestions[r.coverage]
        cross = [s for s in a["suggestions"] if cross_town(r.address, s["components"])]
        offered.update(answers=1, offered=len(a["suggestions"]), cross=len(cross))
        offered.update(with_cross=bool(cross), with_any=bool(a["suggestions"]))
        if cross:
            note("cross-town suggestion", r, a, f"suggested {cross[0]['address']!r}")
        if r.case == "misspelt":
            ids = [s["id"] for s in a["suggestions"]]
            helped.append(bool(ids))
        if r.case == "own":
            exact = (a["verdict"], a["granularity"], a["match"]) == (
                "valid",
                "premise",
                r.address.id,
            )
            own["added" if r.address.added else "built"].append(exact)
            if not exact:
                note("own address not matched", r, a, f"{a['verdict']} at {a['granularity']}")
        if r.case == "plain":
            rejected = a["verdict"] == "invalid"
            plain[r.address.dataset].append(rejected)
            if rejected:
                reject_reasons.update(a["reasons"])
                note("false reject", r, a, ", ".join(a["reasons"]))
    agree: dict[str, list[bool]] = defaultdict(list)
    match_structured: list[bool] = []
    for pair in pairs.values():
        if set(pair) != {"structured", "one-line"}:
            continue
        (r, structured), (_, one_line) = pair["structured"], pair["one-line"]
        same = structured["verdict"] == one_line["verdict"]
        agree[r.coverage].append(same)
        if not same:
            said = f"one-line said {one_line['verdict']}"
            note("structured and one-line differ", r, structured, said)
        if r.address.covered:
            match_structured.append(structured["match"] == r.address.id)
    rejects = [x for values in plain.values() for x in values]
    return {
        "requests": len(answers),
        "errors": dict(errors),
        "clean": {
            "covered": _share(clean["covered"]),
            "outside": _share(clean["outside"]),
            "noise_free_control": _share(clean["noise-free"]),
            "standardized_only": {
                c: _share(clean[f"{c}, standardized only"]) for c in ("covered", "outside")
            },
            "n": {k: len(v) for k, v in clean.items()},
        },
        "match_noisy_covered": _share(match_noisy),
        "structured": {
            "agreement": _share(agree["covered"] + agree["outside"]),
            "agreement_covered": _share(agree["covered"]),
            "agreement_outside": _share(agree["outside"]),
            "match_covered": _share(match_structured),
            "pairs": sum(len(v) for v in agree.values()),
        },
        "cross_town": {
            "rate": _share_of(
                sum(s["cross"] for s in suggestions.values()),
                sum(s["offered"] for s in suggestions.values()),
            ),
            "answers_with_one": _share_of(
                sum(s["with_cross"] for s in suggestions.values()),
                sum(s["answers"] for s in suggestions.values()),
            ),
            "by_coverage": {c: dict(s) for c, s in suggestions.items()},
        },
        "extras": {
            k: {
                "placed": c["truth"],
                "given": c["given"],
                "recall": _share_of(c["right"], c["truth"]),
                "precision": _share_of(c["right"], c["given"]),
            }
            for k, c in extras.items()
        },
        "unit": {
            "found": _share([x for v in units.values() for x in v]),
            "found_as_unit_or_level": _share(units_or_level),
            "by_place": {k: {"n": len(v), "found": _share(v)} for k, v in sorted(units.items())},
        },
        "misspelt_with_suggestions": _share(helped),
        "own": {
            "valid_premise": _share(own["built"] + own["added"]),
            "built": _share(own["built"]),
            "added": _share(own["added"]),
            "n": {k: len(v) for k, v in own.items()},
        },
        "false_rejects": {
            "rate": _share(rejects),
            "n": len(rejects),
            "invalid": sum(rejects),
            "by_dataset": {k: {"n": len(v), "rate": _share(v)} for k, v in sorted(plain.items())},
            "by_reason": dict(reject_reasons.most_common()),
        },
        "latency_ms": {k: _latency(v) for k, v in latency.items()},
        "verdicts": {k: dict(v) for k, v in sorted(verdicts.items())},
        "examples": dict(examples),
    }


def unit_share(side: str, measured: dict[str, Any]) -> float | None:
    """Units found: in ``components["unit"]`` for the new code, in libpostal's ``unit`` or
    ``level`` for the baseline."""
    found: float | None = measured["unit"][
        "found_as_unit_or_level" if side == "baseline" else "found"
    ]
    return found


Row = tuple[str, str, str, str, bool | None]


def or_dash(value: float | None, spec: str = ".3f") -> str:
    """A figure for a table, a dash when it was not measured."""
    return "—" if value is None else f"{value:{spec}}"


def target_rows(new: dict[str, Any], base: dict[str, Any]) -> list[Row]:
    """(figure, new, baseline, target, met by new) for every stated target."""

    def at_least(x: float | None, t: float) -> bool | None:
        return None if x is None else x >= t

    def pick(d: dict[str, Any], *keys: str) -> Any:
        for key in keys:
            d = d[key]
        return d

    rows: list[Row] = []
    mine, b_mine = new.get("own", {}), base.get("own", {})
    rows.append(
        (
            "own one-line addresses: valid at premise (built / added)",
            f"{or_dash(mine.get('valid_premise'))} "
            f"({or_dash(mine.get('built'))} / {or_dash(mine.get('added'))})",
            f"{or_dash(b_mine.get('valid_premise'))} "
            f"({or_dash(b_mine.get('built'))} / {or_dash(b_mine.get('added'))})",
            "≥ 0.99",
            at_least(mine.get("valid_premise"), 0.99),
        )
    )
    for coverage in ("covered", "outside"):
        n, b = pick(new, "clean", coverage), pick(base, "clean", coverage)
        rows.append(
            (
                "clean standardized form, noisy requests "
                + ("in coverage" if coverage == "covered" else "outside"),
                or_dash(n),
                or_dash(b),
                "≥ 0.98",
                at_least(n, 0.98),
            )
        )
    agree, b_agree = new["structured"]["agreement"], base["structured"]["agreement"]
    rows.append(
        (
            "structured vs one-line: same verdict",
            or_dash(agree),
            or_dash(b_agree),
            "≥ 0.99",
            at_least(agree, 0.99),
        )
    )
    found, b_found = new["structured"]["match_covered"], base["structured"]["match_covered"]
    rows.append(
        (
            "structured input: match found, in coverage",
            or_dash(found),
            or_dash(b_found),
            "≥ 0.99",
            at_least(found, 0.99),
        )
    )
    cross, b_cross = new["cross_town"], base["cross_town"]

    def crossed(c: dict[str, Any]) -> str:
        counts = c["by_coverage"].values()
        return f"{sum(x['cross'] for x in counts)} of {sum(x['offered'] for x in counts)}"

    rows.append(
        (
            "cross-town suggestions, of all offered",
            crossed(cross),
            crossed(b_cross),
            "0",
            all(x["cross"] == 0 for x in cross["by_coverage"].values()),
        )
    )
    for kind in KINDS:
        e, b = new["extras"][kind], base["extras"][kind]
        floor = 0.95 if kind in ("phone", "email", "url") else 0.90
        met = (
            None if e["recall"] is None else e["recall"] >= floor and (e["precision"] or 0) >= 0.97
        )
        rows.append(
            (
                f"extras {kind}: recall / precision",
                f"{or_dash(e['recall'])} / {or_dash(e['precision'])}",
                f"{or_dash(b['recall'])} / {or_dash(b['precision'])}",
                f"≥ {floor:.2f} / ≥ 0.97",
                met,
            )
        )
    unit, b_unit = unit_share("new", new), unit_share("baseline", base)
    rows.append(
        (
            "unit found (baseline: libpostal's unit or level)",
            or_dash(unit),
            or_dash(b_unit),
            "≥ 0.95",
            at_least(unit, 0.95),
        )
    )
    rate, b_rate = new["false_rejects"]["rate"], base["false_rejects"]["rate"]
    rows.append(
        (
            f"real addresses outside coverage called invalid (n = {new['false_rejects']['n']})",
            or_dash(rate, ".4f"),
            or_dash(b_rate, ".4f"),
            "≤ 0.005",
            None if rate is None else rate <= 0.005,
        )
    )
    ms, b_ms = new["latency_ms"].get("all") or {}, base["latency_ms"].get("all") or {}
    rows.append(
        (
            "verify latency p50 / p95, in-process (ms)",
            f"{ms.get('p50', '—')} / {ms.get('p95', '—')}",
            f"{b_ms.get('p50', '—')} / {b_ms.get('p95', '—')}",
            "(report)",
            None,
        )
    )
    return rows
