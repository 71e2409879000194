"""Reference files for the index at scale: Hamilton County (242k) and a synthetic 2M.

* ``hamilton``: the 242,133 voter-registration lines of Hamilton County, Ohio
  (``../shared/datasets/us_oh_hamilton_voters.txt``, e.g.
  ``7364 HUNLEY RD CINCINNATI OH 45244``) parsed by libpostal into components
  and written as a reference CSV (``7364 Hunley Rd, Cincinnati, OH 45244``).
  Lines libpostal finds no road in are left out and counted.
* ``sample``: a seeded sample of the default reference rows (to compare build
  options on the same rows).
* ``synthetic``: the default reference rows plus new ones made by giving a
  real street (with its city and postcode) a house number taken from another
  real address of the same country, until ``--rows`` distinct addresses.

Run::

    .venv/bin/python -m eval.scale_data hamilton --out /tmp/hamilton.csv
    .venv/bin/python -m eval.scale_data synthetic --rows 2000000 --out /tmp/synthetic-2m.csv

then build with ``addr index build --input FILE --out DIR [--kind ivfpq]`` and
measure with ``python -m eval.bench_index --index DIR`` (see eval/README.md).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

HAMILTON = Path(__file__).resolve().parents[1].parent / "shared/datasets/us_oh_hamilton_voters.txt"
# Columns of the reference CSV, in the names load_reference_file reads.
COLUMNS = ["id", "number", "street", "unit", "city", "region", "postcode", "country"]


def _title(text: str | None) -> str | None:
    """``"QUEEN CITY AVE"`` -> ``"Queen City Ave"``; ordinals stay ``"33rd"``."""
    if not text:
        return None
    return " ".join(w.capitalize() for w in text.split())


def hamilton(source: Path, out: Path) -> dict[str, int]:
    """Parse every Hamilton line into components and write the reference CSV."""
    from tqdm import tqdm

    from address.libpostal import parse

    lines = [line.strip() for line in source.read_text(encoding="utf-8").splitlines()]
    lines = [line for line in lines if line]
    records, skipped = [], 0
    for n, line in enumerate(tqdm(lines, desc="parsing", unit="rows", mininterval=5), 1):
        parsed = parse(line, country="US")
        if not parsed.road:
            skipped += 1
            continue
        records.append(
            {
                "id": f"hamilton-{n}",
                "number": parsed.house_number,
                "street": _title(parsed.road),
                "unit": _title(parsed.unit),
                "city": _title(parsed.city),
                "region": (parsed.state or "OH").upper(),
                "postcode": parsed.postcode,
                "country": "US",
            }
        )
    frame = pd.DataFrame.from_records(records, columns=COLUMNS)
    frame.to_csv(out, index=False)
    return {"lines": len(lines), "rows": len(frame), "skipped_no_road": skipped}


def synthetic(rows: int, out: Path, seed: int) -> dict[str, int]:
    """Default reference rows plus recombined street/house-number rows, ``rows`` in all."""
    from address.settings import get_settings
    from index.reference import read_reference

    base = read_reference(get_settings().reference_table)
    base = base[base["road"].notna() & base["house_number"].notna()].reset_index(drop=True)
    rng = np.random.default_rng(seed)
    frames = [base]
    have = set(zip(base["house_number"], base["road"], base["postcode"], base["city"], strict=True))
    total = len(base)
    while total < rows:
        draw = base.sample(
            n=min(rows - total, len(base)) * 2, replace=True, random_state=rng
        ).reset_index(drop=True)
        numbers = draw["house_number"].to_numpy(copy=True)
        for country, positions in draw.groupby("country").indices.items():
            pool = base.loc[base["country"] == country, "house_number"].to_numpy()
            numbers[positions] = rng.choice(pool, size=len(positions))
        draw["house_number"] = numbers
        keys = list(
            zip(draw["house_number"], draw["road"], draw["postcode"], draw["city"], strict=True)
        )
        fresh = [k not in have for k in keys]
        draw = draw[fresh].drop_duplicates(["house_number", "road", "postcode", "city"])
        draw = draw.iloc[: rows - total]
        have.update(
            zip(draw["house_number"], draw["road"], draw["postcode"], draw["city"], strict=True)
        )
        frames.append(draw)
        total += len(draw)
    every = pd.concat(frames, ignore_index=True)
    every["id"] = [f"syn-{n}" for n in range(1, len(every) + 1)]
    _write_reference_csv(every, out)
    return {"base_rows": len(base), "rows": len(every)}


def _write_reference_csv(frame: pd.DataFrame, out: Path) -> None:
    renamed = frame.rename(columns={"house_number": "number", "road": "street", "state": "region"})
    renamed[COLUMNS].to_csv(out, index=False)


def sample(rows: int, out: Path, seed: int) -> dict[str, int]:
    """``rows`` default reference rows (seeded), ids kept."""
    from address.settings import get_settings
    from index.reference import read_reference

    base = read_reference(get_settings().reference_table)
    _write_reference_csv(base.sample(n=min(rows, len(base)), random_state=seed), out)
    return {"rows": min(rows, len(base))}


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    sub = parser.add_subparsers(dest="what", required=True)
    ham = sub.add_parser("hamilton", help="Hamilton County voter addresses as a reference CSV")
    ham.add_argument("--source", type=Path, default=HAMILTON)
    ham.add_argument("--out", type=Path, required=True)
    sample_cmd = sub.add_parser("sample", help="a seeded sample of the default reference rows")
    sample_cmd.add_argument("--rows", type=int, default=30_000)
    sample_cmd.add_argument("--seed", type=int, default=7)
    sample_cmd.add_argument("--out", type=Path, required=True)
    syn = sub.add_parser("synthetic", help="recombined default reference rows")
    syn.add_argument("--rows", type=int, default=2_000_000)
    syn.add_argument("--seed", type=int, default=7)
    syn.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    if args.what == "hamilton":
        if not args.source.exists():
            sys.exit(f"{args.source} not found (the shared datasets folder is not beside the repo)")
        summary = hamilton(args.source, args.out)
    elif args.what == "sample":
        summary = sample(args.rows, args.out, args.seed)
    else:
        summary = synthetic(args.rows, args.out, args.seed)
    print(json.dumps({"out": str(args.out), **summary}))


if __name__ == "__main__":
    main()
