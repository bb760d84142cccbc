"""Garbage and damaged signatures raise SignatureError, and nothing else."""

import base64
import os

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from ehealth_portal.signatures import SignatureError, verify_signature
from ehealth_portal.signatures.devpki import cms_sign

from .conftest import CONTENT

# FUZZ_EXAMPLES=20000 for a longer hunt.
FUZZ = hypothesis_settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@pytest.fixture(scope="module")
def valid(test_pki) -> bytes:
    return cms_sign(CONTENT, test_pki["via_intermediate"].credential)


def outcome(data: bytes | str) -> str:
    """ "ok" or the refusal code; any other exception fails the test."""
    try:
        document = verify_signature(data)
    except SignatureError as error:
        assert not error.detail.startswith("unexpected error"), error.detail
        return error.code
    assert document.content == CONTENT  # a change in an unsigned byte may pass, but never alter content
    return "ok"


@FUZZ
@given(data=st.binary(max_size=4096))
def test_random_bytes(data):
    assert outcome(data) != "ok"


@FUZZ
@given(data=st.text(max_size=2048))
def test_random_text(data):
    assert outcome(data) != "ok"


@FUZZ
@given(data=st.data())
def test_mutated_signatures(valid, data):
    mutated = bytearray(valid)
    for _ in range(data.draw(st.integers(1, 4), label="mutations")):
        position = data.draw(st.integers(0, len(mutated) - 1), label="position")
        kind = data.draw(st.sampled_from(["flip", "set", "delete", "insert"]), label="kind")
        if kind == "flip":
            mutated[position] ^= 1 << data.draw(st.integers(0, 7))
        elif kind == "set":
            mutated[position] = data.draw(st.integers(0, 255))
        elif kind == "delete":
            del mutated[position]
        else:
            mutated.insert(position, data.draw(st.integers(0, 255)))
    outcome(bytes(mutated))


@FUZZ
@given(cut=st.integers(0, 10_000))
def test_truncated_signatures_and_their_base64(valid, cut):
    cut %= len(valid)
    assert outcome(valid[:cut]) != "ok"
    assert outcome(base64.b64encode(valid[:cut])) != "ok"
