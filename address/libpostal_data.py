"""libpostal's model files: download, assemble, verify.

The files come from the PyPI packages ``address-finder-data-p00`` … ``p11``.
Each wheel holds one raw xz chunk at ``<package>/data/chunk.bin``; p00–p04
are five slices of one xz stream that decompresses to
``address_parser_crf.dat``. The wheels are read as zip files and never
imported (their ``__init__`` does not compile). Files are decompressed
streaming into a staging folder beside the target, checked against the sizes
below, and the folder is renamed into place only when everything matches.
"""

from __future__ import annotations

import hashlib
import json
import lzma
import shutil
import tempfile
import threading
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from address.downloads import PinnedPackage, pip_download
from address.errors import SETUP_HINT, DataFetchError, DataNotReadyError

__all__ = ["LIBPOSTAL_FILES", "DataFile", "check_data_dir", "fetch_libpostal_data"]

DATA_VERSION = "1.0.2"
MANIFEST_NAME = "addr-manifest.json"
_READ_BLOCK = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class DataChunk:
    """One wheel and the sha256 of the compressed chunk inside it."""

    package: PinnedPackage
    chunk_sha256: str

    @property
    def member(self) -> str:
        return f"{self.package.name.replace('-', '_')}/data/chunk.bin"


@dataclass(frozen=True, slots=True)
class DataFile:
    """A libpostal data file: where it goes, its size, and the chunks it is made of."""

    relative_path: str
    size: int
    chunks: tuple[DataChunk, ...]


def _chunk(part: str, wheel_sha256: str, chunk_sha256: str) -> DataChunk:
    name = f"address-finder-data-p{part}"
    return DataChunk(PinnedPackage(name, DATA_VERSION, wheel_sha256), chunk_sha256)


# Sizes and hashes from each package's own manifest (its __init__.py).
LIBPOSTAL_FILES: tuple[DataFile, ...] = (
    DataFile(
        "address_parser/address_parser_crf.dat",
        1_014_429_504,
        (
            _chunk(
                "00",
                "6cd2366f69557508cb1e094d8b576cf1cdb9e6506b5064ead7643318ebc9f741",
                "453da98756a9ad868a99de154a758f825893532181ce4efa92a0f330ed2e6e0a",
            ),
            _chunk(
                "01",
                "c2c0886848964a253dc315ee3209714bd3baaf9d86b94e10a6c21daf790c517e",
                "5cdd296374ad248b8f70c93a856c4e18437336da181244a45d2d7e059dd0b7a6",
            ),
            _chunk(
                "02",
                "dbca1b57651c467e8d3cfd149c250620dd036be6714da5a9db38552109fbb700",
                "6e08bdd1c71e85d6cf739a3afb04b348e6537a3d3f6ff318a7aac1a4e69cd523",
            ),
            _chunk(
                "03",
                "c29709facc79e83aacb42fd695ab55dab7102e2375f312c321ae0c8f8dfb5708",
                "8390313298c14f96c8d0ae3d11bdb42ad64b609874b25a0ddaac2363cea05c74",
            ),
            _chunk(
                "04",
                "6b604fae98ee5ff94ca363e0641e084cbf9d055dea5fd505fe0b40e1ce1f0fd8",
                "7c128e7af9c0e4470d8bd93d9fcf3382d35e4f68a6e5bcd672860dd2cd5a3737",
            ),
        ),
    ),
    DataFile(
        "address_parser/address_parser_postal_codes.dat",
        621_588_636,
        (
            _chunk(
                "05",
                "b98602ce409c96c9ae17cbc38a511f20d7a78c130da97452db7396e41152d24b",
                "52d4554596d6cfd7beb31f2e46b6b7df4e4d6b50460aed9dbe4167e17397b960",
            ),
        ),
    ),
    DataFile(
        "address_parser/address_parser_phrases.dat",
        137_484_586,
        (
            _chunk(
                "06",
                "d3871a98a0d9aa32f50166097517400c6e398a14c157b6911df5665312f9b627",
                "09957fdf4f203284b5b57a8f11f1eca461f6c2bc3612e35634c9a9b2b226fcc1",
            ),
        ),
    ),
    DataFile(
        "address_parser/address_parser_vocab.trie",
        99_219_597,
        (
            _chunk(
                "07",
                "a088357f16a1362c6145da75e78e8d03ae1659b24a98e8aa1b7a9c682c140d2e",
                "206e4268fc9cfa7fd8ed259d159f5021fe3f7d2459984cd06e54bc594222f821",
            ),
        ),
    ),
    DataFile(
        "language_classifier/language_classifier.dat",
        77_823_270,
        (
            _chunk(
                "08",
                "0e9c2965ed216c7719ae58709b893cc3ec00ff3c7127ad8bc13f724290d0face",
                "54d7c111239f8e664b25370e17dba00743d96ec144d791ee6fb8764ba1128ecf",
            ),
        ),
    ),
    DataFile(
        "transliteration/transliteration.dat",
        19_570_085,
        (
            _chunk(
                "09",
                "096f023706c20aacc909a0df3f5215087439f4d87fdc458c8ffb8b4baa8fb6da",
                "3ae09bd7fed21c0dadf49ffdb1a7f797d8516deddcecf30b3c0392d5cd89a12a",
            ),
        ),
    ),
    DataFile(
        "address_expansions/address_dictionary.dat",
        8_737_530,
        (
            _chunk(
                "10",
                "3af2a62beb161ba85b9e0d085d45ff86701dd67295e5a354ef1ceba5692163dd",
                "66c8132975c6ee6c29222299be2e8cc55c22496d695d43bebf527c79de749ae9",
            ),
        ),
    ),
    DataFile(
        "numex/numex.dat",
        396_966,
        (
            _chunk(
                "11",
                "99a1b474a034a4d1b3f42f8ce3d783fc055b88cc46dd54fb3137ba1fc190e796",
                "1195717690a2230e444106886fff0f0e85d9eb33f52422fde01772a3eecf3b3f",
            ),
        ),
    ),
)


def check_data_dir(data_dir: Path) -> None:
    """Raise :class:`DataNotReadyError` unless ``data_dir`` holds every file at its size.

    Example: ``check_data_dir(Path(".venv/share/addr/libpostal"))`` returns
    ``None`` on a machine where ``make setup`` has run.
    """
    if not data_dir.is_dir():
        raise DataNotReadyError(f"libpostal data folder {data_dir} does not exist; {SETUP_HINT}")
    problems = []
    for data_file in LIBPOSTAL_FILES:
        path = data_dir / data_file.relative_path
        if not path.is_file():
            problems.append(f"{data_file.relative_path} is missing")
        elif (size := path.stat().st_size) != data_file.size:
            problems.append(f"{data_file.relative_path} is {size:,} bytes, not {data_file.size:,}")
    if problems:
        raise DataNotReadyError(
            f"libpostal data in {data_dir} is incomplete or corrupt ({'; '.join(problems)}); "
            f"{SETUP_HINT}"
        )


def assemble_file(
    data_file: DataFile,
    wheels: dict[str, Path],
    dest_root: Path,
    on_bytes: Callable[[int], None] = lambda n: None,
) -> Path:
    """Decompress ``data_file``'s chunks from their wheels into ``dest_root``.

    Checks each compressed chunk's sha256 and the decompressed size.

    Raises:
        DataFetchError: a chunk is missing, truncated, corrupt or of the wrong size.
    """
    target = dest_root / data_file.relative_path
    target.parent.mkdir(parents=True, exist_ok=True)
    decompressor = lzma.LZMADecompressor(format=lzma.FORMAT_XZ)
    written = 0
    with target.open("wb") as out:
        for chunk in data_file.chunks:
            digest = hashlib.sha256()
            try:
                with (
                    zipfile.ZipFile(wheels[chunk.package.name]) as wheel,
                    wheel.open(chunk.member) as raw,
                ):
                    while block := raw.read(_READ_BLOCK):
                        digest.update(block)
                        data = decompressor.decompress(block)
                        out.write(data)
                        written += len(data)
                        on_bytes(len(data))
            except (KeyError, OSError, zipfile.BadZipFile, lzma.LZMAError, EOFError) as exc:
                raise DataFetchError(
                    f"cannot read {chunk.member} from {chunk.package.name}: {exc}"
                ) from exc
            if digest.hexdigest() != chunk.chunk_sha256:
                raise DataFetchError(
                    f"{chunk.package.name} chunk sha256 is {digest.hexdigest()}, "
                    f"expected {chunk.chunk_sha256}"
                )
    if not decompressor.eof:
        raise DataFetchError(f"{data_file.relative_path}: xz stream ends early (truncated chunk)")
    if written != data_file.size:
        raise DataFetchError(
            f"{data_file.relative_path} decompressed to {written:,} bytes, "
            f"expected {data_file.size:,}"
        )
    return target


def fetch_libpostal_data(target: Path, *, force: bool = False, progress: bool = True) -> Path:
    """Make ``target`` a complete libpostal data folder (idempotent).

    A ready folder is left alone and the call returns at once. Otherwise the
    twelve wheels (~614 MB) are downloaded, the files (~1.9 GB) assembled in a
    staging folder beside ``target`` and renamed into place; an interrupted
    run leaves ``target`` untouched.

    Example: ``fetch_libpostal_data(Path(".venv/share/addr/libpostal"))``.
    """
    if not force:
        try:
            check_data_dir(target)
            return target
        except DataNotReadyError:
            pass
    from address.progress import progress as progress_bar

    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".libpostal-", dir=target.parent) as tmp:
        download_dir = Path(tmp) / "wheels"
        staging = Path(tmp) / "data"
        packages = [chunk.package for f in LIBPOSTAL_FILES for chunk in f.chunks]
        saved = pip_download(packages, download_dir)
        wheels = {p.name: path for p, path in zip(packages, saved, strict=True)}
        total = sum(f.size for f in LIBPOSTAL_FILES)
        lock = threading.Lock()
        with progress_bar(
            total=total, unit="B", unit_scale=True, desc="libpostal data", disable=not progress
        ) as bar:

            def advance(n: int) -> None:
                with lock:
                    bar.update(n)

            # lzma releases the GIL: two files decompress at once on two cores.
            with ThreadPoolExecutor(max_workers=2) as pool:
                ordered = sorted(LIBPOSTAL_FILES, key=lambda f: -f.size)
                jobs = [pool.submit(assemble_file, f, wheels, staging, advance) for f in ordered]
                for job in jobs:
                    job.result()
        check_data_dir(staging)
        manifest = {
            "source": f"address-finder-data-p00..p11 {DATA_VERSION}",
            "libpostal_data_version": "v1.0.0",
            "files": {f.relative_path: f.size for f in LIBPOSTAL_FILES},
        }
        (staging / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n")
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    return target
