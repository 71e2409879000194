"""``addr``: the command-line front end.

Composes the commands of each package (``address.cli``, ``index.cli``) with the
set-up, verification and service commands. Every command prints JSON on
stdout; errors go to stderr as ``{"error": ..., "type": ...}`` with exit status
2 (bad input) or 1 (not ready). Like the HTTP API, it only translates
arguments into library calls.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from address.cli import emit, expand, fail, normalize, parse
from address.errors import AddressError, InvalidAddressInputError
from api.bulk.cli import clean
from finetune.cli import classify, finetune_app
from index.cli import autocomplete as index_autocomplete
from index.cli import index_app, suggest

__all__ = ["app", "main"]

app = typer.Typer(
    help="Address verification and suggestion service.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _read_settings() -> None:
    """Read the ADDR_* settings before any command runs, which hands their data folders
    (ADDR_DATA_DIR, ADDR_LIBPOSTAL_DATA_DIR, ...) to the library."""
    from api.settings import get_service_settings

    get_service_settings()


data_app = typer.Typer(
    help="Download and build the data the service runs on.", no_args_is_help=True
)
app.add_typer(data_app, name="data")
for command in (parse, expand, normalize):
    app.command()(command)
app.add_typer(index_app, name="index")
app.add_typer(finetune_app, name="finetune")
app.command("classify")(classify)
app.command()(clean)
app.command()(suggest)
app.command("autocomplete")(index_autocomplete)


@data_app.command("fetch")
def data_fetch(
    force: Annotated[bool, typer.Option(help="Download and rebuild even if present.")] = False,
) -> None:
    """Download libpostal's data and build the postcode gazetteer and the default reference
    table (idempotent)."""
    from address.gazetteer import fetch_gazetteer
    from address.libpostal_data import fetch_libpostal_data
    from api.settings import get_service_settings
    from index.reference import fetch_default_reference

    settings = get_service_settings()
    try:
        libpostal_dir = fetch_libpostal_data(settings.libpostal_dir, force=force)
        gazetteer = fetch_gazetteer(settings.gazetteer_table, force=force)
        reference = fetch_default_reference(settings.reference_table, force=force)
    except AddressError as error:
        fail(error)
    emit(
        {
            "libpostal_data_dir": str(libpostal_dir),
            "gazetteer_table": str(gazetteer),
            "reference_table": str(reference),
        }
    )


@data_app.command("build-reference")
def data_build_reference(
    out: Annotated[Path, typer.Option(help="Parquet file to write.")],
    inputs: Annotated[
        list[Path] | None,
        typer.Option("--input", help="CSV, Parquet or JSONL file(s); none = the default data."),
    ] = None,
) -> None:
    """Build a reference table of known-good addresses from files (one-line addresses are
    parsed into components; rows left out are counted by reason in ``skipped``)."""
    from collections import Counter

    from index.reference import read_reference
    from index.user_files import build_reference

    skipped: Counter[str] = Counter()
    try:
        path = build_reference(list(inputs or []), out, skipped=skipped)
        rows = len(read_reference(path))
    except AddressError as error:
        fail(error)
    emit({"reference_table": str(path), "rows": rows, "skipped": dict(sorted(skipped.items()))})


@app.command()
def verify(
    text: Annotated[
        str | None,
        typer.Argument(help='Address as typed, e.g. "4570 Frozen Hil Rd, Anamosa IA".'),
    ] = None,
    line: Annotated[
        list[str] | None,
        typer.Option(help="A street line of a form's fields, in place of TEXT (repeatable)."),
    ] = None,
    locality: Annotated[str | None, typer.Option(help="Town, with --line.")] = None,
    region: Annotated[str | None, typer.Option(help="State or region, with --line.")] = None,
    postcode: Annotated[str | None, typer.Option(help="Postcode, with --line.")] = None,
    country: Annotated[str | None, typer.Option(help="ISO alpha-2 country, if known.")] = None,
    index: Annotated[
        Path | None, typer.Option(help="Index folder (default: the built one).")
    ] = None,
    limit: Annotated[int, typer.Option(help="Most suggestions.")] = 5,
) -> None:
    """Verdict, reasons, standardized form and suggestions, as a courier app shows them.

    Give the address as one TEXT, or as a form's fields: ``addr verify --line "350 5th Ave"
    --line "Apt 4B" --locality "New York" --region NY --postcode 10118``.
    """
    from address.fields import AddressFields
    from address.verify import verify_batch
    from api.schemas import VerificationCoreOut
    from api.settings import get_service_settings
    from finetune.classifier import Classifier
    from index.store import load_index

    if (text is None) == (not line):
        fail(InvalidAddressInputError("give the address either as TEXT or with --line"))
    item: str | AddressFields = (
        text
        if text is not None
        else AddressFields(tuple(line or ()), locality, region, postcode, country)
    )
    settings = get_service_settings()
    try:
        searcher = load_index(index or settings.index_dir)
        classifier = Classifier.load(settings.adapter_path)
        result = verify_batch(
            [item],
            country,
            searcher=searcher,
            classifier=classifier,
            limit=limit,
            default_country=settings.default_country,
            max_length=settings.max_address_length,
        )[0]
    except AddressError as error:
        fail(error)
    emit(VerificationCoreOut.model_validate(result).model_dump(mode="json"))


_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes (~2.5 GB each).")] = 1,
    index: Annotated[Path | None, typer.Option(help="Index folder to serve.")] = None,
) -> None:
    """Run the HTTP service (API, docs at /docs, checkout page at /)."""
    import os

    # No progress bars in a service's log (model loading draws some); tqdm reads
    # this when first imported, here or in each worker process.
    os.environ.setdefault("TQDM_DISABLE", "1")
    # glibc gives threads that allocate at once their own malloc arenas (up to 8 per
    # core), and a worker's request threads (FastAPI's threadpool, torch's) grow them for
    # minutes under steady load. Capped at two per worker, 5 workers grew +113 MB over a
    # 20-minute load test, levelling off to +5.5 MB/min (eval/results/load_test.md);
    # uncapped, 3- and 7-minute runs were still growing at 72 and 21 MB/min at the end.
    # glibc reads it as each worker process starts.
    os.environ.setdefault("MALLOC_ARENA_MAX", "2")
    import uvicorn

    from api.logs import configure_logging, logging_config
    from api.settings import get_service_settings

    if index is not None:
        # The app reads its settings through get_service_settings(), in this process (one worker)
        # or in each worker process it spawns; pass the choice on through the environment
        # and drop settings cached before it was set, so that every reader sees it.
        os.environ["ADDR_INDEX_PATH"] = str(index.resolve())
        get_service_settings.cache_clear()
    settings = get_service_settings()
    configure_logging(settings.log_level)
    if not settings.api_keys and host not in _LOOPBACK:
        logging.getLogger("api").warning(
            "no API keys configured (ADDR_API_KEYS): binding to 127.0.0.1 instead of %s", host
        )
        host = "127.0.0.1"
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        # Each worker process applies this too (JSON lines, no access log).
        log_config=logging_config(settings.log_level),
        access_log=False,
        # httptools with our limits: header/body/request timeouts, header size, connections
        # per client, JSON error answers (api/protocol.py; each worker imports it by name
        # and reads the ADDR_* limits once).
        http="api.protocol:GuardedHttpToolsProtocol",
        timeout_keep_alive=settings.keep_alive_timeout_seconds,
        # X-Forwarded-For only from the configured proxies, never from anyone.
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=",".join(settings.trusted_proxies) or None,
        # A worker loads ~2 GB of models for ~40 s; on busy cores its answer to the
        # supervisor's ping can take longer than uvicorn's default 5 s.
        timeout_worker_healthcheck=60,
        timeout_graceful_shutdown=10,
    )


feedback_app = typer.Typer(
    help="Delivery outcomes: import past ones, take a caller's back.", no_args_is_help=True
)
app.add_typer(feedback_app, name="feedback")


@feedback_app.command("import")
def feedback_import(
    events: Annotated[
        Path,
        typer.Argument(
            help="CSV with address, outcome and optionally country, event_id, "
            "reason, lat, lon, occurred_at columns."
        ),
    ],
    resume: Annotated[
        bool, typer.Option(help="Continue after the rows an earlier run of this file did.")
    ] = True,
) -> None:
    """Record past delivery outcomes in the feedback database (ADDR_FEEDBACK_PATH); a
    running service serves the addresses they make known-good at its next request.

    ``addr feedback import events.csv`` with the row ``"Laugavegur 12b, 101 Reykjavík",IS,
    delivered,64.14597,-21.93096`` prints ``{"rows": 1, "accepted": 1, ...}``.
    """
    from dataclasses import asdict

    from address.reading import read
    from api.settings import get_service_settings
    from index.feedback import FeedbackStore, import_events

    settings = get_service_settings()

    def read_address(text: str, country: str | None) -> tuple[str, str | None, dict[str, str]]:
        """The address as verify standardizes it (:meth:`Reading.standardized`)."""
        reading = read(
            text,
            country,
            default_country=settings.default_country,
            max_length=settings.max_address_length,
        )
        return reading.standardized(), reading.country, reading.parsed.components()

    try:
        report = import_events(
            events, FeedbackStore(settings.feedback_db), read_address, resume=resume
        )
    except (OSError, ValueError) as error:
        fail(InvalidAddressInputError(str(error)))
    emit(asdict(report))


@feedback_app.command("revoke")
def feedback_revoke(
    caller: Annotated[
        str,
        typer.Option(
            help="Fingerprint stored with the events: the first 16 hex digits of "
            "the SHA-256 of the API key, the client address when keys are off, or "
            "import:<file name>."
        ),
    ],
) -> None:
    """Delete every outcome a caller sent (a leaked or abused key) and drop the addresses
    only its deliveries made known-good; prints ``{"caller": ..., "removed": 12}``."""
    from api.settings import get_service_settings
    from index.feedback import FeedbackStore

    store = FeedbackStore(get_service_settings().feedback_db)
    emit({"caller": caller, "removed": store.revoke(caller)})


eval_app = typer.Typer(
    help="Benchmarks and the evaluation report (source checkout only).", no_args_is_help=True
)
app.add_typer(eval_app, name="eval")


def _run_report(*arguments: str) -> None:
    """Run ``python -m eval.report`` in the checkout that holds this package."""
    import subprocess

    repo = Path(__file__).resolve().parent.parent
    if not (repo / "eval" / "report.py").is_file():
        fail(AddressError(f"no eval/ folder beside {repo / 'api'}: `addr eval` needs the source"))
    sys.exit(subprocess.run([sys.executable, "-m", "eval.report", *arguments], cwd=repo).returncode)


@eval_app.command("all")
def eval_all(
    only: Annotated[
        list[str] | None, typer.Option("--only", help="Run only these stages (repeatable).")
    ] = None,
) -> None:
    """Run every benchmark (about 2.5 hours on 2 cores), then write eval/REPORT.md."""
    _run_report("all", *(["--only", *only] if only else []))


@eval_app.command("report")
def eval_report() -> None:
    """Write eval/REPORT.md (and README's measured block) from the results already made."""
    _run_report("render")


def main() -> None:
    """Console-script entry point."""
    # Arguments with invalid UTF-8 arrive as lone surrogates; normalize() drops them.
    sys.exit(app())


if __name__ == "__main__":
    main()
