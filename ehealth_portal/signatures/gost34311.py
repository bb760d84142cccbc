"""GOST 34.311-95 (GOST R 34.11-94) hash with the GOST 28147-89 cipher, as Ukrainian CMS uses it.

Byte order follows the reference implementations Ukrainian software is compatible with (OpenSSL's
gosthash.c, the npm package gost89): 256-bit values are little-endian, the digest is the final H as
32 little-endian bytes. The S-box ("DKE") defaults to the one of DSTU 4145-2002 ("DKE No. 1"),
which certificates carry in the 64-byte packed form `DSTU_SBOX_PACKED`.

`gost34311(data, sbox=...)` is hashlib-like: update(), digest(), hexdigest(), copy().
"""

import sys
from array import array
from functools import lru_cache, reduce
from operator import mul, xor

# The DSTU 4145-2002 default S-box, packed as in the key parameters: rows K1..K8, two nibbles a byte.
DSTU_SBOX_PACKED = bytes.fromhex(
    "a9d6eb45f13c708280c4967b231f5eadf658eba4c037291d38d96bf025ca4e17"
    "f8e9720dc615b43a28975f0bc1dea36438b564ea2c179fd0123e6db8fac57904"
)

M32 = 0xFFFFFFFF
M64 = (1 << 64) - 1
M256 = (1 << 256) - 1
BLOCK = 32

# Key derivation constant C3 of the step function: bytes 1,3,5,7,8,10,12,14,17,18,20,23,24,28,29,31.
_C3 = sum(0xFF << (8 * i) for i in (1, 3, 5, 7, 8, 10, 12, 14, 17, 18, 20, 23, 24, 28, 29, 31))

Sbox = tuple[tuple[int, ...], ...]  # rows K1..K8, 16 nibbles each; K1 substitutes the lowest nibble


def sbox_unpack(packed: bytes) -> Sbox:
    """The 64-byte packed S-box of DSTU key parameters as rows K1..K8."""
    if len(packed) != 64:
        raise ValueError("a packed S-box has 64 bytes")
    rows = []
    for row in range(8):
        chunk = packed[8 * row : 8 * row + 8]
        rows.append(tuple(nibble for byte in chunk for nibble in (byte >> 4, byte & 15)))
    return tuple(rows)


def sbox_pack(sbox: Sbox) -> bytes:
    return bytes(row[i] << 4 | row[i + 1] for row in sbox for i in range(0, 16, 2))


DSTU_SBOX = sbox_unpack(DSTU_SBOX_PACKED)


@lru_cache(maxsize=4)
def _round_tables(sbox: Sbox) -> tuple[list[int], list[int]]:
    """The round function f as two 16-bit lookups: substitution, placement and rotation by 11 bits.

    Two 65536-entry lists (about 5 MB) instead of four byte tables halve the cost of a round.
    """
    if len(sbox) != 8 or any(sorted(row) != list(range(16)) for row in sbox):
        raise ValueError("an S-box is 8 permutations of 0..15")
    byte_tables = []
    for position in range(4):
        low, high = sbox[2 * position], sbox[2 * position + 1]
        table = []
        for byte in range(256):
            value = (high[byte >> 4] << 4 | low[byte & 15]) << (8 * position)
            table.append(((value << 11) | (value >> 21)) & M32)
        byte_tables.append(table)
    t0, t1, t2, t3 = byte_tables
    return (
        [t0[x & 255] ^ t1[x >> 8] for x in range(65536)],
        [t2[x & 255] ^ t3[x >> 8] for x in range(65536)],
    )


def gost28147_encrypt(block: int, key: tuple[int, ...], sbox: Sbox = DSTU_SBOX) -> int:
    """One 64-bit block (little-endian int) in simple replacement mode; key = 8 little-endian words."""
    return _encrypt(block, key, _round_tables(sbox))


def _encrypt(block: int, key: tuple[int, ...], tables: tuple[list[int], list[int]]) -> int:
    low, high = tables
    k0, k1, k2, k3, k4, k5, k6, k7 = key
    n0, n1 = block & M32, block >> 32
    for ka, kb in ((k0, k1), (k2, k3), (k4, k5), (k6, k7)) * 3 + ((k7, k6), (k5, k4), (k3, k2), (k1, k0)):
        t = (n0 + ka) & M32
        n1 ^= low[t & 0xFFFF] ^ high[t >> 16]
        t = (n1 + kb) & M32
        n0 ^= low[t & 0xFFFF] ^ high[t >> 16]
    return n1 | n0 << 32


def _key(w: int) -> tuple[int, ...]:
    """The transposition P of the standard: key word t is made of bytes t, 8+t, 16+t, 24+t of w."""
    raw = w.to_bytes(32, "little")
    return tuple(int.from_bytes(raw[t::8], "little") for t in range(8))


def _a(y: int) -> int:
    """A(y4‖y3‖y2‖y1) = (y1 ⊕ y2)‖y4‖y3‖y2 with 64-bit y1 the least significant."""
    return (y >> 64) | (((y ^ (y >> 64)) & M64) << 192)


def _psi(y: int, times: int) -> int:
    """The linear feedback ψ on sixteen 16-bit words, applied `times` times."""
    for _ in range(times):
        feedback = (y ^ (y >> 16) ^ (y >> 32) ^ (y >> 48) ^ (y >> 192) ^ (y >> 240)) & 0xFFFF
        y = (y >> 16) | (feedback << 240)
    return y


def _word_masks(times: int) -> list[int]:
    """ψ^times XORs whole words: for input word i, a mask with 1 at each output word it reaches."""
    masks = []
    for i in range(16):
        image = _psi(1 << (16 * i), times)
        masks.append(sum(1 << (16 * j) for j in range(16) if (image >> (16 * j)) & 1))
    return masks


# The step's output ψ^61(H ⊕ ψ(M ⊕ ψ^12(S))) = ψ^74(S) ⊕ ψ^62(M) ⊕ ψ^61(H): ψ is linear and acts on
# 16-bit words, so each input word times its mask (no carries: the 1s are 16 bits apart) is its share.
_OUTPUT_MASKS = _word_masks(74) + _word_masks(62) + _word_masks(61)


def _output(s: int, m: int, h: int) -> int:
    words = array("H", s.to_bytes(32, "little") + m.to_bytes(32, "little") + h.to_bytes(32, "little"))
    if sys.byteorder == "big":
        words.byteswap()
    return reduce(xor, map(mul, words, _OUTPUT_MASKS))


def _step(h: int, m: int, tables: tuple[list[int], list[int]]) -> int:
    """The compression function: H(i) from H(i-1) and a 256-bit message block."""
    u, v = h, m
    keys = [_key(h ^ m)]
    for constant in (0, _C3, 0):
        u = _a(u) ^ constant
        v = _a(_a(v))
        keys.append(_key(u ^ v))
    s = 0
    for index, key in enumerate(keys):
        s |= _encrypt((h >> (64 * index)) & M64, key, tables) << (64 * index)
    return _output(s, m, h)


class Gost34311:
    """A hashlib-like GOST 34.311-95 object."""

    name = "gost34311"
    digest_size = 32
    block_size = 32

    def __init__(self, data: bytes = b"", *, sbox: Sbox = DSTU_SBOX) -> None:
        self._tables = _round_tables(sbox)
        self._h = 0
        self._sum = 0
        self._length = 0
        self._pending = b""
        if data:
            self.update(data)

    def update(self, data: bytes) -> None:
        data = self._pending + bytes(data)
        full = len(data) - len(data) % BLOCK
        h, total, tables = self._h, self._sum, self._tables
        for offset in range(0, full, BLOCK):
            block = int.from_bytes(data[offset : offset + BLOCK], "little")
            h = _step(h, block, tables)
            total = (total + block) & M256
        self._h, self._sum = h, total
        self._length += full
        self._pending = data[full:]

    def digest(self) -> bytes:
        h, total, length = self._h, self._sum, self._length
        if self._pending:
            block = int.from_bytes(self._pending, "little")  # zero-padded at the high end
            h = _step(h, block, self._tables)
            total = (total + block) & M256
            length += len(self._pending)
        h = _step(h, (length * 8) & M256, self._tables)
        h = _step(h, total, self._tables)
        return h.to_bytes(32, "little")

    def hexdigest(self) -> str:
        return self.digest().hex()

    def copy(self) -> "Gost34311":
        clone = Gost34311.__new__(Gost34311)
        clone.__dict__.update(self.__dict__)
        return clone


def gost34311(data: bytes = b"", *, sbox: Sbox = DSTU_SBOX) -> Gost34311:
    return Gost34311(data, sbox=sbox)
