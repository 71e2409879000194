"""Production-shaped verify requests: the new code beside the old, in the same run.

Real addresses of ``../shared/datasets`` (UK, DE, FR, Chicago, Hamilton OH) sent the way
checkouts send them: with the recipient, company, phone, e-mail, web address and delivery
instructions before, after or inside the address (names, companies, numbers and web
addresses from ``faker`` in the address's locale, instructions from our own phrases per
language), with units in several positions and forms, and as structured fields. Every
request goes to two worker processes in turn, case by case, on the same index folders with
the shipped classifier:

* **new**: the checked-out code (or ``--new REV``);
* **baseline**: plain libpostal and the code at revision ``360ff93`` (``git archive`` into a
  temporary folder, imported through ``PYTHONPATH``; each worker reports the
  ``address/__init__.py`` it imported, and the run stops if it is not the expected tree).

Held-out rows only: a row whose address text ``t`` (UK ``text``, DE ``address``, FR
``query``, Chicago ``Address``, a Hamilton line) has ``held_out(t)`` false belongs to the
dev split that tuning may look at, and no request is made from it. An FR address is used
only when every query row naming it is held out, a Chicago place only when each of its
spellings is.

* **In coverage**: a small index built in this run over held-out rows of each dataset (UK,
  Chicago and Hamilton as one-line rows parsed by the reference loader, DE and FR with their
  components; every fifth row added with ``AddressIndex.add`` after the build, as
  ``addr index add`` does); requests name addresses in it.
* **Outside coverage**: the default index (Linn County, Iowa and Iceland), which holds none
  of these addresses.

Requests: noisy one-line texts (extras, half of them with a unit), structured fields beside
the one-line text as written (a fifth with a unit on the second line; the baseline gets the
fields glued into one line, as the checkout page sent them before), clean real addresses
outside coverage, as written, and the small index's own one-line addresses exactly as they
were indexed. The country is always given, as a checkout knows it.

Run (2 shared cores, 3 to 6 minutes; deterministic apart from latencies)::

    nice -n 15 .venv/bin/python -m eval.bench_production
    .venv/bin/python -m eval.bench_production --new 360ff93 --noisy 20 --structured 10 \\
        --plain 10 --covered-rows 200 --out /tmp/smoke

Writes ``eval/results/production.json``, ``.md`` and ``.png``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from eval._common import DATASETS, RESULTS, write_json
from eval.production.addresses import prepare
from eval.production.render import write_report
from eval.production.runner import NAME, SEED, run
from eval.production.workers import serve


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point: the run, or one of its subprocesses."""
    parser = argparse.ArgumentParser(
        description=(__doc__ or "").split("\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "mode",
        nargs="?",
        default="run",
        choices=("run", "prepare", "worker"),
        help="run (default); prepare and worker are the run's subprocesses",
    )
    parser.add_argument("--datasets", type=Path, default=DATASETS)
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the results")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument(
        "--new",
        default=None,
        metavar="REV",
        help="measure this revision as the new code (default: the checkout)",
    )
    parser.add_argument(
        "--covered-rows", type=int, default=2000, help="addresses per dataset in the small index"
    )
    parser.add_argument(
        "--outside-rows",
        type=int,
        default=600,
        help="addresses per dataset kept outside every index",
    )
    parser.add_argument("--noisy", type=int, default=600, help="noisy requests per coverage")
    parser.add_argument(
        "--structured",
        type=int,
        default=200,
        help="addresses asked as fields and as one line, per coverage",
    )
    parser.add_argument(
        "--plain",
        type=int,
        default=250,
        help="plain real addresses outside coverage per dataset (Hamilton 2x)",
    )
    parser.add_argument(
        "--own",
        type=int,
        default=600,
        help="one-line addresses of the small index asked exactly as indexed (UK, Chicago, "
        "Hamilton; a fifth of them added after the build)",
    )
    parser.add_argument(
        "--misspelt",
        type=int,
        default=400,
        help="addresses of the small index asked with another house number or a street typo",
    )
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--index", action="append", default=[], help=argparse.SUPPRESS)
    parser.add_argument(
        "--render-only",
        action="store_true",
        help="measure nothing: rewrite the .md and .png from the .json in --out",
    )
    args = parser.parse_args(argv)
    if args.mode == "worker":
        serve({k: Path(v) for k, v in (item.split("=", 1) for item in args.index)})
        return 0
    if args.mode == "prepare":
        prepare(args)
        return 0
    if args.render_only:
        write_report(json.loads((args.out / f"{NAME}.json").read_text(encoding="utf-8")), args.out)
        return 0
    if not args.datasets.is_dir():
        print(f"{args.datasets} is absent: nothing to measure, no results written.")
        return 0
    command = "python -m eval.bench_production " + " ".join(
        sys.argv[1:] if argv is None else list(argv)
    )
    result = run(args, command.strip())
    args.out.mkdir(parents=True, exist_ok=True)
    write_json(args.out / f"{NAME}.json", result, ensure_ascii=False)
    write_report(result, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
