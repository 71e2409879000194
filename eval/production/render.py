"""The results as Markdown and as a chart."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from eval._common import met, pyplot, save_figure
from eval.production.figures import or_dash, unit_share
from eval.production.runner import BASELINE_REV, NAME


def markdown(r: dict[str, Any]) -> str:
    """The results file: targets, data, requests, judges and details."""
    new, base = r["figures"]["new"], r["figures"]["baseline"]
    lines = [
        *_summary(r),
        *_data(r),
        *_requests(r),
        *_judges(new, base),
        *_details(new, base),
    ]
    return "\n".join(lines)


def _summary(r: dict[str, Any]) -> list[str]:
    """Title, provenance, both sides and the targets table."""
    sides = r["sides"]
    return [
        "# Production-shaped requests: new code vs the code before",
        "",
        f"Command: `{r['command']}`  ",
        f"Date: {r['date']}; commit `{r['git_commit']}`; {r['seconds'] / 60:.1f} min on "
        f"{r['machine']['cpus']} shared cores (load average {r['machine']['load_average_start']}"
        f" at the start, {r['machine']['load_average_end']} at the end).",
        "",
        f"**New**: {sides['new']['code']}. **Baseline**: plain libpostal and the code at "
        f"revision `{BASELINE_REV}` (before this work). Both in their own worker process (one "
        "thread each), on the same index folders and the shipped classifier; each request goes "
        "to both in turn, alternating which goes first. Structured requests: "
        + (
            "the new code gets `AddressFields`, "
            if sides["new"]["fields"]
            else "**this code has no `AddressFields` yet, so it got the glued line too**, "
        )
        + "the baseline the fields glued into one line as the checkout page sent them before "
        "(`Apt 4B, 350 5th Ave, New York, NY 10118`: unit, street, town, region and postcode).",
        "",
        "| figure | new | baseline | target | |",
        "|---|---|---|---|---|",
        *[f"| {f} | {n} | {b} | {t} | {met(m)} |" for f, n, b, t, m in r["targets_rows"]],
        "",
        f"![new vs baseline]({NAME}.png)",
        "",
    ]


def _data(r: dict[str, Any]) -> list[str]:
    """The held-out split and the addresses used per dataset."""
    return [
        "## Data: held-out rows only",
        "",
        "Rows are split by their address text `t`: `int(hashlib.sha1(t.encode()).hexdigest(), "
        "16) % 10 >= 5` is held out (`eval.production.addresses.held_out`); rows below 5 are the "
        "dev split that tuning may look at, and no request is made from them. An FR "
        "address counts only when every query row naming it is held out, a Chicago place only "
        "when each of its spellings is.",
        "",
        "| dataset | file | held-out addresses used | in the small index | outside |",
        "|---|---|---:|---:|---:|",
        *[
            f"| {k} | `{v['file']}` | {v['used']} | {v['covered']} | {v['outside']} |"
            for k, v in r["datasets"].items()
        ],
        "",
        f"In coverage: one index of {r['index']['rows']} rows built in this run "
        f"({r['index']['build_seconds']:.0f} s; UK, Chicago and Hamilton as one-line rows "
        "that the reference loader parses, DE and FR with their components). Outside "
        "coverage: the default index (Linn County, Iowa and Iceland), which holds none of "
        "these addresses.",
        "",
    ]


def _requests(r: dict[str, Any]) -> list[str]:
    """The request kinds and how many of each."""
    return [
        "## Requests",
        "",
        f"{r['requests']['total']} per side: "
        + ", ".join(f"{k} {v}" for k, v in r["requests"]["by_case"].items())
        + ". **Noisy**: the address as written with extras from `faker` in the address's "
        "locale (name, company, phone, sometimes with a label such as `Tel.`, e-mail, web "
        "address) and our own delivery instructions per language, each before, inside (after "
        "the street) or after the address; half of them also carry a unit (`Apt 4B`, `#05-67`, "
        "`Fl 3`, `Suite 200`, `Flat 3`, `Wohnung 5`, `Appartement 12`, ...) before the address, "
        "after the street or after the postcode. **Structured** / **one-line**: the same "
        "address as form fields and as written (a fifth with a unit on the second line and "
        "after the street). **Plain**: clean real addresses outside coverage, as written. "
        "**Misspelt**: addresses of the small index as written with a house number it "
        "lacks (`12` → `129`) or a letter dropped from the street, every other one; they "
        "draw the did-you-mean suggestions that the cross-town figure reads. "
        "**Own**: one-line addresses of the small index (UK, Chicago, Hamilton) exactly as "
        "they were indexed; a fifth of the index was added after the build, through "
        "`AddressIndex.add` (`addr index add`).",
        "",
    ]


def _judges(new: dict[str, Any], base: dict[str, Any]) -> list[str]:
    """How each figure is judged."""
    return [
        "## How each figure is judged",
        "",
        "- **clean**: no word of the noise (three characters or more, not a word of the "
        "address itself) in `standardized` or in a component value, no phone number's last "
        "seven digits there, and the address's own house number, street and town (their "
        "longest word, or an abbreviation of it) in `standardized`. The same judge on the "
        "noise-free requests (should be 1.0 if the judge is fair): new "
        f"{or_dash(new['clean']['noise_free_control'])}, baseline "
        f"{or_dash(base['clean']['noise_free_control'])}.",
        "- **same verdict**: structured and one-line requests of the same address; **match "
        "found**: the structured request's `match` is that address's row.",
        "- **cross-town**: a suggestion whose town and postcode both differ from the input's.",
        "- **extras**: a value is right when it says what was placed (phone: same last nine "
        "digits; e-mail and web address: equal, case, scheme and `www.` aside; names, "
        "companies, instructions: word-set F1 ≥ 0.8). Recall over the extras placed; "
        "precision over the extras returned, on every request (a clean address with an extra "
        "returned counts against it).",
        "- **unit found**: the unit's identifier (`4B`, `05-67`) stands alone in "
        '`components["unit"]` (baseline: in libpostal\'s `unit` or `level`).',
        "- **false rejects**: verdict `invalid` on a plain real address.",
        "- **own**: verdict `valid`, granularity `premise` and the address's own row as the match.",
        "",
    ]


def _details(new: dict[str, Any], base: dict[str, Any]) -> list[str]:
    """The figures behind the targets, side by side."""
    return [
        "## Details",
        "",
        "| | new | baseline |",
        "|---|---|---|",
        f"| match found, noisy requests in coverage | {or_dash(new['match_noisy_covered'])} | "
        f"{or_dash(base['match_noisy_covered'])} |",
        f"| clean, `standardized` alone (components not read): in coverage / outside | "
        f"{_clean_alone(new)} | {_clean_alone(base)} |",
        "| same verdict: in coverage / outside | "
        f"{or_dash(new['structured']['agreement_covered'])} / "
        f"{or_dash(new['structured']['agreement_outside'])} | "
        f"{or_dash(base['structured']['agreement_covered'])} / "
        f"{or_dash(base['structured']['agreement_outside'])} |",
        f"| misspelt addresses in coverage answered with a did-you-mean | "
        f"{or_dash(new.get('misspelt_with_suggestions'))} | "
        f"{or_dash(base.get('misspelt_with_suggestions'))} |",
        *[
            f"| cross-town suggestions {c}: offered / cross-town | "
            f"{new['cross_town']['by_coverage'][c].get('offered', 0)} / "
            f"{new['cross_town']['by_coverage'][c].get('cross', 0)} | "
            f"{base['cross_town']['by_coverage'][c].get('offered', 0)} / "
            f"{base['cross_town']['by_coverage'][c].get('cross', 0)} |"
            for c in ("covered", "outside")
        ],
        *[
            f"| unit found, {place} (n = {v['n']}) | {or_dash(v['found'])} | "
            f"{or_dash(base['unit']['by_place'].get(place, {}).get('found'))} |"
            for place, v in new["unit"]["by_place"].items()
        ],
        f"| unit found as unit or level | {or_dash(new['unit']['found_as_unit_or_level'])} | "
        f"{or_dash(base['unit']['found_as_unit_or_level'])} |",
        *[
            f"| false rejects, {k} (n = {v['n']}) | {or_dash(v['rate'], '.4f')} | "
            f"{or_dash(base['false_rejects']['by_dataset'].get(k, {}).get('rate'), '.4f')} |"
            for k, v in new["false_rejects"]["by_dataset"].items()
        ],
        f"| false rejects by reason | {_reasons(new)} | {_reasons(base)} |",
        *[
            f"| latency p50 / p95 ms, {c} | {_ms(new['latency_ms'].get(c))} | "
            f"{_ms(base['latency_ms'].get(c))} |"
            for c in ("covered", "outside")
        ],
        f"| requests that raised | {_errors(new)} | {_errors(base)} |",
        "",
        "Verdicts per request kind and a few failing examples per figure are in the JSON "
        "(`figures.<side>.verdicts`, `figures.<side>.examples`).",
        "",
    ]


def _clean_alone(side: dict[str, Any]) -> str:
    alone = side["clean"]["standardized_only"]
    return f"{or_dash(alone['covered'])} / {or_dash(alone['outside'])}"


def _reasons(side: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in side["false_rejects"]["by_reason"].items()) or "—"


def _errors(side: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in side["errors"].items()) or "0"


def _ms(latency: dict[str, float] | None) -> str:
    return "—" if not latency else f"{latency['p50']} / {latency['p95']}"


def _plot(r: dict[str, Any], path: Path) -> None:
    plt = pyplot()
    new, base = r["figures"]["new"], r["figures"]["baseline"]
    Figure = Callable[[str, dict[str, Any]], float | None]
    shares: dict[str, Figure] = {
        "clean,\nin coverage": lambda _, s: s["clean"]["covered"],
        "clean,\noutside": lambda _, s: s["clean"]["outside"],
        "structured =\none-line": lambda _, s: s["structured"]["agreement"],
        "unit\nfound": unit_share,
    }
    rates: dict[str, Figure] = {
        "cross-town\nsuggestions": lambda _, s: s["cross_town"]["rate"],
        "false\nrejects": lambda _, s: s["false_rejects"]["rate"],
    }
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), gridspec_kw={"width_ratios": [2, 1]})
    for ax, group, title in (
        (axes[0], shares, "higher is better"),
        (axes[1], rates, "lower is better"),
    ):
        xs = range(len(group))
        for offset, (label, side) in ((-0.2, ("new", new)), (0.2, ("baseline", base))):
            values = [get(label, side) or 0.0 for get in group.values()]
            bars = ax.bar([x + offset for x in xs], values, 0.38, label=label)
            for rect, value in zip(bars, values, strict=True):
                ax.text(
                    rect.get_x() + rect.get_width() / 2,
                    value + 0.01,
                    f"{value:.3f}",
                    ha="center",
                    fontsize=7,
                )
        ax.set_xticks(list(xs), list(group), fontsize=8)
        ax.set_title(title, fontsize=9)
        ax.set_ylim(0, 1.2 if group is shares else max(0.1, ax.get_ylim()[1] * 1.1))
    axes[0].legend(fontsize=8, loc="upper center", ncol=2)
    fig.suptitle(f"Production-shaped requests: new vs {BASELINE_REV} (same run)", fontsize=10)
    save_figure(fig, path)


def write_report(result: dict[str, Any], out: Path) -> None:
    """Write the Markdown and the chart into ``out``, and print the Markdown."""
    out.mkdir(parents=True, exist_ok=True)
    text = markdown(result)
    (out / f"{NAME}.md").write_text(text, encoding="utf-8")
    _plot(result, out / f"{NAME}.png")
    print(text)
