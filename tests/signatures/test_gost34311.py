"""GOST 34.311-95 and GOST 28147-89: published known answers (sources in data/dstu/README.md)."""

from pathlib import Path

import pytest

from ehealth_portal.signatures.algorithms import OID_GOST34311, digest_get
from ehealth_portal.signatures.gost34311 import (
    DSTU_SBOX,
    DSTU_SBOX_PACKED,
    gost28147_encrypt,
    gost34311,
    sbox_pack,
    sbox_unpack,
)

DATA = Path(__file__).parent / "data" / "dstu"

# GOST R 34.11-94 "test parameters" S-box, rows K1 (lowest nibble) … K8.
TEST_SBOX = (
    (4, 10, 9, 2, 13, 8, 0, 14, 6, 11, 1, 12, 7, 15, 5, 3),
    (14, 11, 4, 12, 6, 13, 15, 10, 2, 3, 8, 1, 0, 7, 5, 9),
    (5, 8, 1, 13, 10, 3, 4, 2, 14, 15, 12, 7, 6, 0, 9, 11),
    (7, 13, 10, 1, 0, 8, 9, 15, 14, 4, 6, 12, 11, 2, 5, 3),
    (6, 12, 7, 1, 5, 15, 13, 8, 4, 10, 9, 14, 0, 3, 11, 2),
    (4, 11, 10, 0, 7, 2, 1, 13, 3, 6, 8, 5, 9, 12, 15, 14),
    (13, 11, 4, 1, 3, 15, 5, 9, 0, 10, 14, 7, 6, 8, 2, 12),
    (1, 15, 13, 0, 5, 7, 10, 4, 9, 2, 3, 14, 6, 11, 8, 12),
)


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (b"", "ce85b99cc46752fffee35cab9a7b0278abb4c2d2055cff685af4912c49490f8d"),
        (b"a", "d42c539e367c66e9c88a801f6649349c21871b4344c6a573f849fdce62f314dd"),
        (b"abc", "f3134348c44fb1b2a277729e2285ebb5cb5e0f29c975bc753b70497c06a4d51d"),
        (b"message digest", "ad4434ecb18f2c99b60cbe59ec3d2469582b65273f48de72db2fde16a4889a4d"),
        (
            b"This is message, length=32 bytes",
            "b1c466d37519b82e8319819ff32595e047a28cb6f83eff1c6916a815a637fffa",
        ),
        (
            b"Suppose the original message has length = 50 bytes",
            "471aba57a60a770d3a76130635c1fbea4ef14de51f78b4ae57dd893b62f55208",
        ),
        (
            b"The quick brown fox jumps over the lazy dog",
            "77b7fa410c9ac58a25f49bca7d0468c9296529315eaca76bd1a10f376d1f4294",
        ),
    ],
)
def test_standard_vectors_with_the_test_sbox(message, expected):
    assert gost34311(message, sbox=TEST_SBOX).hexdigest() == expected


GOST89_VECTORS = [
    (b"12345678901234567890123456789011", "7686f3f4b113aadc97bca9ea054f41821f0676c5c28ffb987e41797a568e1ed4"),
    (bytes(range(32)), "811cb06a8ee423182d9cc9d281f783908f4cfbaf47a68be8415d3499674a3063"),
    (b"123123", "34d4da2c04e9c1ceb933282069c864617d94ed7cc5c0a9840c0c1a99629df637"),
    (
        b"IGNORE THIS FILE. This file does nothing, contains no useful data, and might go away in future"
        b" releases.  Do not depend on this file or its contents.",
        "e9312d13d0e0d39aa4a00c77dcfb661883dd0ed8218af48a146168fc60f014dc",
    ),
]


@pytest.mark.parametrize(("message", "expected"), GOST89_VECTORS)
def test_dstu_sbox_vectors(message, expected):
    assert gost34311(message).hexdigest() == expected


def test_the_registry_hashes_with_the_dstu_sbox():
    message, expected = GOST89_VECTORS[2]
    digest = digest_get(OID_GOST34311)
    assert digest.hash is None  # no cryptography counterpart: usable for DSTU 4145 only
    assert digest.new(message).hexdigest() == expected


def test_a_one_bit_change_changes_the_digest():
    message = bytearray(GOST89_VECTORS[3][0])
    message[40] ^= 0x10
    assert gost34311(bytes(message)).hexdigest() != GOST89_VECTORS[3][1]


def test_any_split_of_the_input_gives_the_same_digest():
    message = bytes(range(256)) + b"tail of 45 bytes, not a multiple of the block"
    whole = gost34311(message).digest()
    for split in (0, 1, 31, 32, 33, 64, 100, len(message)):
        hasher = gost34311(message[:split])
        hasher.update(message[split:])
        assert hasher.digest() == whole, split
    chunked = gost34311()
    for offset in range(0, len(message), 7):
        chunked.update(message[offset : offset + 7])
    assert chunked.digest() == whole


def test_copy_and_digest_leave_the_state_usable():
    hasher = gost34311(b"123")
    clone = hasher.copy()
    assert hasher.digest() == hasher.digest()  # digest() does not finalise the object
    hasher.update(b"123")
    assert hasher.hexdigest() == GOST89_VECTORS[2][1]
    assert clone.digest() == gost34311(b"123").digest()
    assert (hasher.name, hasher.digest_size, hasher.block_size) == ("gost34311", 32, 32)


def test_the_packed_sbox_is_the_one_real_certificates_carry():
    assert sbox_unpack(DSTU_SBOX_PACKED) == DSTU_SBOX
    assert sbox_pack(DSTU_SBOX) == DSTU_SBOX_PACKED
    assert DSTU_SBOX_PACKED in (DATA / "CZOROOT.cer").read_bytes()  # the dke of the CZO root's key
    assert DSTU_SBOX[0] == (10, 9, 13, 6, 14, 11, 4, 5, 15, 1, 3, 12, 7, 0, 8, 2)  # K1 of DKE No. 1
    with pytest.raises(ValueError):
        sbox_unpack(DSTU_SBOX_PACKED[:-1])


def test_a_broken_sbox_is_refused():
    broken = (DSTU_SBOX[0][:-1] + (DSTU_SBOX[0][0],),) + DSTU_SBOX[1:]
    with pytest.raises(ValueError):
        gost34311(b"x", sbox=broken)


def test_gost28147_known_answers():
    key_bytes = bytes.fromhex("000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F")
    key = tuple(int.from_bytes(key_bytes[i : i + 4], "little") for i in range(0, 32, 4))
    for clear, cipher in (("0001020304050607", "e393a17df2b6de6f"), ("f1f2f3f4f5f6f7f8", "2086d8230c277432")):
        block = int.from_bytes(bytes.fromhex(clear), "little")
        assert gost28147_encrypt(block, key).to_bytes(8, "little").hex() == cipher
