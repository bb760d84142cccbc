"""DSTU 4145-2002 signatures over GF(2^m) in polynomial basis, as Ukrainian qualified signatures use them.

Encodings of the "little-endian" algorithm 1.2.804.2.1.1.1.1.3.1.1: the public key is the compressed
point (x with its bit 0 replaced by Tr(y/x)) in a little-endian OCTET STRING; a signature is r‖s,
each half little-endian of ceil(L(n)/8) bytes; the GOST 34.311 digest is read little-endian and cut
to m bits (0 becomes 1); valid when the L(n)-1 low bits of h·x(s·P + r·Q) equal r.

Speed comes from the representation: a field element is kept "spread", bit i of the polynomial at
bit 9·i of a Python int. One integer multiplication of two spread elements adds up the products
a_i·b_j of each coefficient in its own 9-bit slot (at most m ≤ 511 terms: no carry leaves a slot) and
a slot's lowest bit is the GF(2) coefficient, so CPython's C multiplication does the carry-less one.
Points are in López–Dahab coordinates. s·P uses a per-curve table of signed-window multiples (no
doublings); r·Q uses width-5 NAF, or a table of its own for a key that keeps coming back.
"""

import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

from asn1crypto import core

from .gost34311 import DSTU_SBOX_PACKED, gost34311, sbox_unpack

OID_DSTU4145_LE = "1.2.804.2.1.1.1.1.3.1.1"
CURVE_OID_PREFIX = OID_DSTU4145_LE + ".2."  # + 0…9: M163 … M431

SLOT = 9  # bits per coefficient in the spread representation; enough while m < 512
MAX_M = 511
BASE_WINDOW = 6  # the base point table: signed 6-bit digits, 32 points a position
NAF_WIDTH = 5
_GAP = "0" * (SLOT - 1)


def _spread(a: int) -> int:
    return int(_GAP.join(bin(a)[2:]), 2) if a else 0


def _compact(p: int) -> int:
    if not p:
        return 0
    bits = bin(p)[2:]
    return int(bits[len(bits) - 1 :: -SLOT][::-1], 2)


class Field:
    """GF(2^m) modulo t^m + Σ t^k + 1: compact ints outside, spread ints inside the point loops."""

    def __init__(self, m: int, exponents: tuple[int, ...]) -> None:
        if not (m % 2 and 3 <= m <= MAX_M and len(exponents) in (1, 3)):
            raise ValueError(f"unsupported field GF(2^{m}) with exponents {exponents}")
        if not all(0 < k < m // 2 for k in exponents) or len(set(exponents)) != len(exponents):
            raise ValueError(f"unsupported field GF(2^{m}) with exponents {exponents}")
        self.m = m
        self.exponents = exponents
        self.modulus = (1 << m) | sum(1 << k for k in exponents) | 1
        self.mask = (1 << m) - 1
        low, full, top = _spread(self.mask), _spread((1 << (2 * m - 1)) - 1), SLOT * m
        # Two folds reduce a product: after the first, what is left above t^m is below t^(2k) < t^m.
        if len(exponents) == 1:
            k1 = SLOT * exponents[0]

            def mul(a: int, b: int) -> int:
                p = (a * b) & full
                hi = p >> top
                p = (p & low) ^ hi ^ (hi << k1)
                hi = p >> top
                return (p & low) ^ hi ^ (hi << k1) if hi else p

        else:
            k1, k2, k3 = (SLOT * k for k in exponents)

            def mul(a: int, b: int) -> int:
                p = (a * b) & full
                hi = p >> top
                p = (p & low) ^ hi ^ (hi << k1) ^ (hi << k2) ^ (hi << k3)
                hi = p >> top
                return (p & low) ^ hi ^ (hi << k1) ^ (hi << k2) ^ (hi << k3) if hi else p

        self.mul = mul  # spread × spread → spread

    # Compact-domain operations: a few per key or signature, never in the point loops.

    def multiply(self, a: int, b: int) -> int:
        return _compact(self.mul(_spread(a), _spread(b)))

    def square(self, a: int) -> int:
        a = int("0".join(bin(a)[2:]), 2) if a else 0
        while a >> self.m:
            hi = a >> self.m
            a = (a & self.mask) ^ hi
            for k in self.exponents:
                a ^= hi << k
        return a

    def inverse(self, a: int) -> int:
        """Extended Euclid on polynomials; ValueError for 0 (or a modulus that is not irreducible)."""
        u, v, g1, g2 = a, self.modulus, 1, 0
        while u != 1:
            if not u:
                raise ValueError("no inverse")
            j = u.bit_length() - v.bit_length()
            if j < 0:
                u, v, g1, g2 = v, u, g2, g1
                j = -j
            u ^= v << j
            g1 ^= g2 << j
        return g1

    @cached_property
    def trace_mask(self) -> int:
        """Bit i is Tr(t^i): by Newton's identities, Tr(t^i) = p_i, the i-th power sum of f's roots."""
        m, exponents = self.m, self.exponents
        sums = [m & 1]  # p_0 = Tr(1)
        for i in range(1, m):
            p = (i & 1) if (m - i) in exponents else 0  # i·e_i, e_i the coefficient of t^(m-i)
            for k in exponents:
                if m - k < i:
                    p ^= sums[i - (m - k)]
            sums.append(p)
        return sum(bit << i for i, bit in enumerate(sums))

    def trace(self, a: int) -> int:
        """Tr(a) = a + a² + a⁴ + … + a^(2^(m-1)), which is 0 or 1; linear, hence a mask."""
        return (a & self.trace_mask).bit_count() & 1

    def half_trace(self, a: int) -> int:
        """Σ a^(4^i) for i ≤ (m-1)/2: a z with z² + z = a when Tr(a) = 0 (m odd)."""
        h = a
        for _ in range((self.m - 1) // 2):
            h = self.square(self.square(h)) ^ a
        return h


@dataclass(frozen=True, eq=False)
class Curve:
    """y² + xy = x³ + a·x² + b over GF(2^m), base point (gx, gy) of prime order n; oid None: explicit."""

    name: str
    oid: str | None
    m: int
    exponents: tuple[int, ...]  # the middle exponents of the field polynomial, largest first
    a: int
    b: int
    n: int
    gx: int
    gy: int
    field: Field = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.a not in (0, 1) or not (0 < self.b < (1 << self.m)) or not (3 <= self.n < 1 << (self.m + 2)):
            raise ValueError("curve coefficients out of range")
        object.__setattr__(self, "field", Field(self.m, self.exponents))
        if not self.contains(self.gx, self.gy):
            raise ValueError("the base point is not on the curve")

    @property
    def order_bits(self) -> int:
        return self.n.bit_length()

    @property
    def signature_half(self) -> int:
        """Bytes of r and of s: the signature has the multiple of 16 bits at or above 2·L(n)."""
        return (self.n.bit_length() + 7) // 8

    def contains(self, x: int, y: int) -> bool:
        f = self.field
        x2 = f.square(x)
        return f.square(y) ^ f.multiply(x, y) == f.multiply(x2, x) ^ (x2 if self.a else 0) ^ self.b

    def compress(self, x: int, y: int) -> int:
        """The DSTU compressed form: x with bit 0 replaced by Tr(y/x)."""
        f = self.field
        return (x & ~1) | f.trace(f.multiply(y, f.inverse(x))) if x else 0

    def decompress(self, value: int) -> tuple[int, int]:
        """The point of odd order with compressed form `value`; ValueError when there is none."""
        return _decompress(self.field, self.a, self.b, value)

    @cached_property
    def compressed_base(self) -> int:
        return self.compress(self.gx, self.gy)

    def group(self) -> "_Group":
        return _group(self)


def _decompress(f: Field, a: int, b: int, value: int) -> tuple[int, int]:
    if value >> f.m:
        raise ValueError("compressed point longer than the field")
    k, x = value & 1, value & ~1
    if f.trace(x) != a:  # a point of odd order has Tr(x) = Tr(a): bit 0 of x is implied
        x ^= 1
    if not x:
        raise ValueError("the point (0, √b) has order 2")
    w = x ^ a ^ f.multiply(b, f.inverse(f.square(x)))  # z = y/x solves z² + z = x + a + b/x²
    z = f.half_trace(w)
    if f.square(z) ^ z != w:
        raise ValueError("not a point of the curve")
    if f.trace(z) != k:
        z ^= 1
    return x, f.multiply(z, x)


# --- Point arithmetic on spread coordinates ----------------------------------------------------------------

Affine = tuple[int, int]
Projective = tuple[int, int, int]  # López–Dahab (X, Y, Z): x = X/Z, y = Y/Z²; Z = 0 is the infinity
Table = list[list[Affine]]


class _Group:
    def __init__(self, curve: Curve) -> None:
        self.curve = curve
        self.field = curve.field
        self.one = _spread(1)
        self.a = curve.a
        self.base = (_spread(curve.gx), _spread(curve.gy))
        self._base_table: Table | None = None

    def double(self, p: Projective) -> Projective:
        """4M + 4S (dbl-2005-l of the Explicit-Formulas Database)."""
        mul = self.field.mul
        x, y, z = p
        a = mul(x, z)
        b = mul(x, x)
        c = b ^ y
        d = mul(a, c)
        z3 = mul(a, a)
        if not z3:
            return (self.one, 0, 0)
        x3 = mul(c, c) ^ d ^ (z3 if self.a else 0)
        return (x3, mul(z3 ^ d, x3) ^ mul(mul(b, b), z3), z3)

    def add_affine(self, p: Projective | None, q: Affine) -> Projective:
        """p + q, q affine: 8M + 5S (Hankerson–Menezes–Vanstone, algorithm 3.25); None is the infinity."""
        x2, y2 = q
        if p is None or not p[2]:
            return (x2, y2, self.one)
        mul = self.field.mul
        x1, y1, z1 = p
        z1s = mul(z1, z1)
        b = mul(x2, z1) ^ x1
        a = mul(y2, z1s) ^ y1
        if not b:
            return (self.one, 0, 0) if a else self.double((x2, y2, self.one))
        c = mul(z1, b)
        d = mul(mul(b, b), c ^ z1s if self.a else c)
        z3 = mul(c, c)
        e = mul(a, c)
        x3 = mul(a, a) ^ d ^ e
        return (x3, mul(e ^ z3, x3 ^ mul(x2, z3)) ^ mul(x2 ^ y2, mul(z3, z3)), z3)

    def affine(self, points: list[Projective]) -> list[Affine | None]:
        """Batch conversion with one inversion (Montgomery's trick); None for the infinity."""
        mul = self.field.mul
        finite = [p for p in points if p[2]]
        prefix, running = [], self.one
        for _, _, z in finite:
            prefix.append(running)
            running = mul(running, z)
        inverse = _spread(self.field.inverse(_compact(running))) if finite else 0
        converted: list[Affine] = [(0, 0)] * len(finite)
        for index in range(len(finite) - 1, -1, -1):
            x, y, z = finite[index]
            z_inv = mul(inverse, prefix[index])
            inverse = mul(inverse, z)
            converted[index] = (mul(x, z_inv), mul(y, mul(z_inv, z_inv)))
        ordered = iter(converted)
        return [next(ordered) if p[2] else None for p in points]

    def window_table(self, point: Affine, width: int) -> Table:
        """table[i][j-1] = j·2^(width·i)·point, j = 1…2^(width-1): signed digits of scalars below 2n."""
        table, base = [], point
        for _ in range((self.curve.n.bit_length() + width) // width + 1):
            multiples: list[Projective] = [(base[0], base[1], self.one)]
            for _ in range((1 << (width - 1)) - 1):
                multiples.append(self.add_affine(multiples[-1], base))
            multiples.append(self.double(multiples[-1]))  # 2^width·base: the next position's base
            converted = self.affine(multiples)
            if None in converted:
                raise ValueError("the point has a small order")
            table.append(converted[:-1])  # type: ignore[arg-type]
            base = converted[-1]  # type: ignore[assignment]
        return table

    def multiply_table(self, k: int, table: Table, acc: Projective | None = None) -> Projective | None:
        """acc + k·point by the table's signed digits: additions only."""
        width = len(table[0]).bit_length()
        full, half = 1 << width, 1 << (width - 1)
        position = 0
        while k:
            digit = k & (full - 1)
            if digit > half:
                digit -= full
            k = (k - digit) >> width
            if digit:
                x, y = table[position][abs(digit) - 1]
                acc = self.add_affine(acc, (x, y) if digit > 0 else (x, x ^ y))
            position += 1
        return acc

    def multiply(self, k: int, point: Affine) -> Projective | None:
        """k·point with width-5 NAF over affine odd multiples."""
        twice = self.affine([self.double((point[0], point[1], self.one))])[0]
        if twice is None:
            raise ValueError("the point has a small order")
        odd: list[Projective] = [(point[0], point[1], self.one)]
        for _ in range((1 << (NAF_WIDTH - 2)) - 1):
            odd.append(self.add_affine(odd[-1], twice))
        multiples = self.affine(odd)
        if None in multiples:
            raise ValueError("the point has a small order")
        acc: Projective | None = None
        for digit in reversed(_naf(k, NAF_WIDTH)):
            if acc is not None:
                acc = self.double(acc)
            if digit:
                x, y = multiples[abs(digit) >> 1]  # type: ignore[misc]
                acc = self.add_affine(acc, (x, y) if digit > 0 else (x, x ^ y))
        return acc

    def multiply_base(self, k: int, acc: Projective | None = None) -> Projective | None:
        """acc + k·P: by the base point table of a named curve, built on first use (0.1 s for M257)."""
        k %= self.curve.n
        if self.curve.oid is None:  # an explicit curve from a certificate: no table to keep
            product = self.multiply(k, self.base)
            other = self.affine([acc])[0] if acc is not None else None
            return product if other is None else self.add_affine(product, other)
        if self._base_table is None:
            self._base_table = self.window_table(self.base, BASE_WINDOW)
        return self.multiply_table(k, self._base_table, acc)

    def x_of(self, p: Projective | None) -> int | None:
        """The compact affine x, or None for the infinity."""
        if p is None or not p[2]:
            return None
        return self.field.multiply(_compact(p[0]), self.field.inverse(_compact(p[2])))


def _naf(k: int, width: int) -> list[int]:
    digits, full, half = [], 1 << width, 1 << (width - 1)
    while k:
        digit = 0
        if k & 1:
            digit = k & (full - 1)
            if digit >= half:
                digit -= full
            k -= digit
        digits.append(digit)
        k >>= 1
    return digits


@lru_cache(maxsize=32)
def _group(curve: Curve) -> _Group:
    return _Group(curve)


# A key that verifies again and again (a doctor signing declarations, a CA) gets a table of its own,
# so that r·Q needs no doublings: built after its KEY_TABLE_AFTER-th valid signature (about five
# verifications of work), at most KEY_TABLES of them kept (about 0.5 MB each for M257).
KEY_TABLE_AFTER = 3
KEY_TABLES = 16
KEY_WINDOW = 5
_key_tables: OrderedDict[tuple[Curve, int, int], Table] = OrderedDict()
_key_successes: dict[tuple[Curve, int, int], int] = {}
_key_lock = threading.Lock()


def _key_table(curve: Curve, x: int, y: int) -> Table | None:
    with _key_lock:
        table = _key_tables.get((curve, x, y))
        if table is not None:
            _key_tables.move_to_end((curve, x, y))
        return table


def _key_verified(curve: Curve, x: int, y: int) -> None:
    key = (curve, x, y)
    with _key_lock:
        if len(_key_successes) >= 4096:
            _key_successes.clear()
        successes = _key_successes[key] = _key_successes.get(key, 0) + 1
    if successes < KEY_TABLE_AFTER:
        return
    try:
        table = curve.group().window_table((_spread(x), _spread(y)), KEY_WINDOW)
    except ValueError:  # a point of small order; it cannot have verified, but never fail a verification here
        return
    with _key_lock:
        _key_tables[key] = table
        _key_successes.pop(key, None)
        while len(_key_tables) > KEY_TABLES:
            _key_tables.popitem(last=False)


# --- Keys and signatures -------------------------------------------------------------------------------------


def digest_to_field(curve: Curve, digest: bytes) -> int:
    """The digest read little-endian and cut to m bits; 0 becomes 1."""
    return (int.from_bytes(digest, "little") & curve.field.mask) or 1


def gost34311_digest(data: bytes, sbox: bytes | None = None) -> bytes:
    """GOST 34.311-95 with a key's packed S-box (None: the DSTU default)."""
    if sbox is None or sbox == DSTU_SBOX_PACKED:
        return gost34311(data).digest()
    return gost34311(data, sbox=sbox_unpack(sbox)).digest()


@dataclass(frozen=True, eq=False)
class PublicKey:
    curve: Curve
    x: int
    y: int
    sbox: bytes | None = None  # the packed S-box of the key parameters; None: the DSTU default

    @classmethod
    def from_compressed(cls, curve: Curve, value: bytes, sbox: bytes | None = None) -> "PublicKey":
        x, y = curve.decompress(int.from_bytes(value, "little"))
        return cls(curve, x, y, sbox)

    def compressed(self) -> bytes:
        return self.curve.compress(self.x, self.y).to_bytes((self.curve.m + 7) // 8, "little")

    def verify(self, data: bytes, signature: bytes) -> bool:
        """Whether r‖s is a signature of data hashed with GOST 34.311-95 and the key's S-box."""
        return self.verify_digest(gost34311_digest(data, self.sbox), signature)

    def verify_digest(self, digest: bytes, signature: bytes) -> bool:
        half = len(signature) // 2
        if not 0 < half <= self.curve.signature_half or len(signature) % 2:
            return False
        r = int.from_bytes(signature[:half], "little")
        s = int.from_bytes(signature[half:], "little")
        return verify(self.curve, self.x, self.y, digest_to_field(self.curve, digest), r, s)


def verify(curve: Curve, x: int, y: int, h: int, r: int, s: int) -> bool:
    """The standard's check for public key Q = (x, y): R = s·P + r·Q, then r = L(n)-1 low bits of h·x(R)."""
    if not (0 < r < curve.n and 0 < s < curve.n):
        return False
    group = curve.group()
    table = _key_table(curve, x, y)
    try:
        acc = group.multiply(r, (_spread(x), _spread(y))) if table is None else group.multiply_table(r, table)
        x_r = group.x_of(group.multiply_base(s, acc))
    except ValueError:  # a key of small order: nothing verifies with it
        return False
    valid = x_r is not None and curve.field.multiply(h, x_r) & ((1 << (curve.order_bits - 1)) - 1) == r
    if valid and table is None:
        _key_verified(curve, x, y)
    return valid


@dataclass(frozen=True, eq=False)
class PrivateKey:
    curve: Curve
    d: int

    @classmethod
    def generate(cls, curve: Curve) -> "PrivateKey":
        return cls(curve, 1 + secrets.randbelow(curve.n - 1))

    def public_key(self, sbox: bytes | None = None) -> PublicKey:
        """Q = −d·P, the key a certificate carries."""
        group = self.curve.group()
        point = group.affine([group.multiply_base(self.d) or (group.one, 0, 0)])[0]
        if point is None:
            raise ValueError("the private key is a multiple of the order")
        x, y = _compact(point[0]), _compact(point[1])
        return PublicKey(self.curve, x, x ^ y, sbox)

    def sign(self, data: bytes, sbox: bytes | None = None) -> bytes:
        """r‖s over data hashed with GOST 34.311-95; CMS carries it as is, certificates in an OCTET STRING."""
        return self.sign_digest(gost34311_digest(data, sbox))

    def sign_digest(self, digest: bytes, nonce: int | None = None) -> bytes:
        """r‖s with little-endian halves; `nonce` (the standard's e) is for known-answer tests only."""
        curve = self.curve
        h = digest_to_field(curve, digest)
        group = curve.group()
        while True:
            e = nonce if nonce is not None else 1 + secrets.randbelow(curve.n - 1)
            x = group.x_of(group.multiply_base(e))
            r = curve.field.multiply(h, x) & ((1 << (curve.order_bits - 1)) - 1) if x else 0
            s = (e + self.d * r) % curve.n
            if r and s:
                return r.to_bytes(curve.signature_half, "little") + s.to_bytes(curve.signature_half, "little")
            if nonce is not None:
                raise ValueError("this nonce gives r = 0 or s = 0")


# --- The standard's named curves (polynomial basis) -------------------------------------------------------------

# name m exponents a / b n / base x, base y; hexadecimal as DSTU 4145-2002 prints them (and Bouncy Castle's table)
_NAMED = """
M163 163 7,6,3 1
    5FF6108462A2DC8210AB403925E638A19C1455D21 400000000000000000002BEC12BE2262D39BCF14D
    2E2F85F5DD74CE983A5C4237229DAF8A3F35823BE 3826F008A8C51D7B95284D9D03FF0E00CE2CD723A
M167 167 6 1
    6EE3CEEB230811759F20518A0930F1A4315A827DAC 3FFFFFFFFFFFFFFFFFFFFFB12EBCC7D7F29FF7701F
    7A1F6653786A68192803910A3D30B2A2018B21CD54 5F49EB26781C0EC6B8909156D98ED435E45FD59918
M173 173 10,2,1 0
    108576C80499DB2FC16EDDF6853BBB278F6B6FB437D9 800000000000000000000189B4E67606E3825BB2831
    4D41A619BCC6EADF0448FA22FAD567A9181D37389CA 10B51CC12849B234C75E6DD2028BF7FF5C1CE0D991A1
M179 179 4,2,1 1
    4A6E0856526436F2F88DD07A341E32D04184572BEB710 3FFFFFFFFFFFFFFFFFFFFFFB981960435FE5AB64236EF
    6BA06FE51464B2BD26DC57F48819BA9954667022C7D03 25FBC363582DCEC065080CA8287AAFF09788A66DC3A9E
M191 191 9 1
    7BC86E2102902EC4D5890E8B6B4981FF27E0482750FEFC03 40000000000000000000000069A779CAC1DABC6788F7474F
    714114B762F2FF4A7912A6D2AC58B9B5C2FCFE76DAEB7129 29C41E568B77C617EFE5902F11DB96FA9613CD8D03DB08DA
M233 233 9,4,1 1
    06973B15095675534C7CF7E64A21BD54EF5DD3B8A0326AA936ECE454D2C 1000000000000000000000000000013E974E72F8A6922031D2603CFE0D7
    3FCDA526B6CDF83BA1118DF35B3C31761D3545F32728D003EEB25EFE96 9CA8B57A934C54DEEDA9E54A7BBAD95E3B2E91C54D32BE0B9DF96D8D35
M257 257 12 0
    1CEF494720115657E18F938D7A7942394FF9425C1458C57861F9EEA6ADBE3BE10 800000000000000000000000000000006759213AF182E987D3E17714907D470D
    02A29EF207D0E9B6C55CD260B306C7E007AC491CA1B10C62334A9E8DCD8D20FB7 10686D41FF744D4449FCCF6D8EEA03102E6812C93A9D60B978B702CF156D814EF
M307 307 8,4,2 1
    393C7F7D53666B5054B5E6C6D3DE94F4296C0C599E2E2E241050DF18B6090BDC90186904968BB
    3FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC079C2F3825DA70D390FBBA588D4604022B7B7
    216EE8B189D291A0224984C1E92F1D16BF75CCD825A087A239B276D3167743C52C02D6E7232AA
    5D9306BACD22B7FAEB09D2E049C6E2866C5D1677762A8F2F2DC9A11C7F7BE8340AB2237C7F2A0
M367 367 21 1
    43FC8AD242B0B7A6F3D1627AD5654447556B47BF6AA4A64B0C2AFE42CADAB8F93D92394C79A79755437B56995136
    40000000000000000000000000000000000000000000009C300B75A3FA824F22428FD28CE8812245EF44049B2D49
    324A6EDDD512F08C49A99AE0D3F961197A76413E7BE81A400CA681E09639B5FE12E59A109F78BF4A373541B3B9A1
    1AB597A5B4477F59E39539007C7F977D1A567B92B043A49C6B61984C3FE3481AAF454CD41BA1F051626442B3C10
M431 431 5,3,1 1
    03CE10490F6A708FC26DFE8C3D27C4F94E690134D5BFF988D8D28AAEAEDE975936C66BAC536B18AE2DC312CA493117DAA469C640CAF3
    3FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFBA3175458009A8C0A724F02F81AA8A1FCBAF80D90C7A95110504CF
    1A62BA79D98133A16BBAE7ED9A8E03C32E0824D57AEF72F88986874E5AAE49C27BED49A2A95058068426C2171E99FD3B43C5947C857D
    70B5E1E14031C1F70BBEFE96BDDE66F451754B4CA5F48DA241F331AA396B8D1839A855C1769B1EA14BA53308B5E2723724E090E02DB9
"""


def _named_curves() -> dict[str, Curve]:
    tokens = _NAMED.split()
    curves = {}
    for index in range(0, len(tokens), 8):
        name, m, exponents, a, *numbers = tokens[index : index + 8]
        b, n, gx, gy = (int(number, 16) for number in numbers)
        oid = CURVE_OID_PREFIX + str(index // 8)
        curves[name] = Curve(
            name, oid, int(m), tuple(int(k) for k in exponents.split(",")), int(a), b, n, gx, gy
        )
    return curves


CURVES: dict[str, Curve] = _named_curves()
CURVES_BY_OID: dict[str, Curve] = {curve.oid: curve for curve in CURVES.values()}  # type: ignore[misc]


def curve_from_parameters(m: int, exponents: tuple[int, ...], a: int, b: int, n: int, base: int) -> Curve:
    """The named curve with these explicit parameters (base point compressed), or a checked new one.

    Certificates often spell M257 or M431 out; finding the named curve shares its base point table.
    """
    exponents = tuple(sorted(exponents, reverse=True))
    for curve in CURVES.values():
        same = (curve.m, curve.exponents, curve.a, curve.b, curve.n) == (m, exponents, a, b, n)
        if same and curve.compressed_base == base:
            return curve
    return _explicit_curve(m, exponents, a, b, n, base)


@lru_cache(maxsize=16)
def _explicit_curve(m: int, exponents: tuple[int, ...], a: int, b: int, n: int, base: int) -> Curve:
    if not m // 2 < n.bit_length() <= m + 1:
        raise ValueError("the order does not fit the field")
    gx, gy = _decompress(Field(m, exponents), a, b, base)
    curve = Curve("explicit", None, m, exponents, a, b, n, gx, gy)
    group = curve.group()
    if group.x_of(group.multiply(n, group.base)) is not None:
        raise ValueError("the base point does not have the order n")
    return curve


# --- SubjectPublicKeyInfo (the DSTU 4145 ASN.1 module; asn1crypto does not know these types) ------------------


class UnsupportedKey(ValueError):
    """Well-formed parameters this implementation does not handle (another algorithm, an unknown curve)."""


class _Pentanomial(core.Sequence):
    _fields = [("k", core.Integer), ("j", core.Integer), ("l", core.Integer)]


class _Polynomial(core.Choice):
    _alternatives = [("trinomial", core.Integer), ("pentanomial", _Pentanomial)]


class _BinaryField(core.Sequence):
    _fields = [("m", core.Integer), ("polynomial", _Polynomial)]


class _ECBinary(core.Sequence):
    _fields = [
        ("version", core.Integer, {"explicit": 0, "default": 0}),
        ("f", _BinaryField),
        ("a", core.Integer),
        ("b", core.OctetString),  # little-endian, like the base point
        ("n", core.Integer),
        ("bp", core.OctetString),  # the compressed base point
    ]


class _CurveChoice(core.Choice):
    _alternatives = [("ec_binary", _ECBinary), ("named_curve", core.ObjectIdentifier)]


class _DstuParameters(core.Sequence):
    _fields = [("curve", _CurveChoice), ("dke", core.OctetString, {"optional": True})]


class _Algorithm(core.Sequence):
    _fields = [("algorithm", core.ObjectIdentifier), ("parameters", _DstuParameters)]


class _SubjectPublicKeyInfo(core.Sequence):
    _fields = [("algorithm", _Algorithm), ("public_key", core.OctetBitString)]


def public_key_from_spki(spki: bytes) -> PublicKey:
    """The key of a DSTU 4145 (little-endian) SubjectPublicKeyInfo; ValueError when it is not one."""
    try:
        info = _SubjectPublicKeyInfo.load(spki, strict=True)
        algorithm = info["algorithm"]["algorithm"].dotted
        parameters = info["algorithm"]["parameters"]
        dke = parameters["dke"].native
        point = core.OctetString.load(info["public_key"].native, strict=True).native
        choice = parameters["curve"]
        curve_oid = choice.chosen.dotted if choice.name == "named_curve" else None
        if curve_oid is None:
            binary = choice.chosen
            polynomial = binary["f"]["polynomial"]
            if polynomial.name == "trinomial":
                exponents: tuple[int, ...] = (polynomial.chosen.native,)
            else:
                exponents = tuple(polynomial.chosen[name].native for name in ("l", "j", "k"))
            m, a, n = binary["f"]["m"].native, binary["a"].native, binary["n"].native
            b = int.from_bytes(binary["b"].native, "little")
            base = int.from_bytes(binary["bp"].native, "little")
    except (ValueError, TypeError, KeyError, AttributeError) as error:  # asn1crypto's ways to refuse
        raise ValueError(f"malformed DSTU 4145 public key: {error}") from None
    if algorithm != OID_DSTU4145_LE:
        raise UnsupportedKey(f"public key algorithm {algorithm}")
    if dke is not None and len(dke) != 64:
        raise ValueError("the S-box (dke) is not 64 bytes")
    if curve_oid is not None:
        curve = CURVES_BY_OID.get(curve_oid)
        if curve is None:
            raise UnsupportedKey(f"curve {curve_oid}")
    else:
        if not (m % 2 and m <= MAX_M and a in (0, 1)):
            raise UnsupportedKey(f"curve over GF(2^{m})")
        curve = curve_from_parameters(m, exponents, a, b, n, base)
    return PublicKey.from_compressed(curve, point, None if dke == DSTU_SBOX_PACKED else dke)


def spki_encode(key: PublicKey, explicit: bool = False) -> bytes:
    """The SubjectPublicKeyInfo of a key: its named curve's OID, or explicit parameters; and the S-box."""
    curve = key.curve
    if curve.oid is not None and not explicit:
        choice = _CurveChoice(name="named_curve", value=curve.oid)
    else:
        size, exponents = (curve.m + 7) // 8, curve.exponents
        if len(exponents) == 1:
            polynomial = _Polynomial(name="trinomial", value=exponents[0])
        else:
            terms = dict(zip(("l", "j", "k"), exponents, strict=True))
            polynomial = _Polynomial(name="pentanomial", value=terms)
        binary = {
            "f": {"m": curve.m, "polynomial": polynomial},
            "a": curve.a,
            "b": curve.b.to_bytes(size, "little"),
            "n": curve.n,
            "bp": curve.compressed_base.to_bytes(size, "little"),
        }
        choice = _CurveChoice(name="ec_binary", value=binary)
    parameters = {"curve": choice, "dke": key.sbox or DSTU_SBOX_PACKED}
    return _SubjectPublicKeyInfo(
        {
            "algorithm": {"algorithm": OID_DSTU4145_LE, "parameters": parameters},
            "public_key": core.OctetString(key.compressed()).dump(),
        }
    ).dump()
