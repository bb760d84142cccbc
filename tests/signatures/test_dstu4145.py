"""DSTU 4145-2002: the standard's worked example, published known answers and real certificates.

Sources of every value: data/dstu/README.md. Speed is measured outside the tests (no timing here).
"""

from pathlib import Path

import pytest
from asn1crypto import cms
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ehealth_portal.signatures import der, dstu4145
from ehealth_portal.signatures.algorithms import (
    OID_DSTU4145,
    OID_GOST34311,
    OID_RSA,
    SHA256,
    public_key_load,
    signature_is_valid,
)
from ehealth_portal.signatures.dstu4145 import (
    CURVES,
    CURVES_BY_OID,
    Curve,
    PrivateKey,
    PublicKey,
    gost34311_digest,
    public_key_from_spki,
    spki_encode,
)
from ehealth_portal.signatures.errors import SignatureError

DATA = Path(__file__).parent / "data" / "dstu"


def _reversed(hex_digest: str) -> bytes:
    """The standard and Bouncy Castle print H as a number; CMS carries its bytes little-endian."""
    return bytes.fromhex(hex_digest)[::-1]


def _halves(signature: bytes) -> tuple[int, int]:
    half = len(signature) // 2
    return int.from_bytes(signature[:half], "little"), int.from_bytes(signature[half:], "little")


def _flip(data: bytes, index: int, bit: int = 0) -> bytes:
    changed = bytearray(data)
    changed[index] ^= 1 << bit
    return bytes(changed)


# (m, exponents, a, b, base x, base y, n, d, e, H, r, s); e as the fixed random, cut to L(n)-1 bits
KNOWN_ANSWERS = {
    # DSTU 4145-2002 Annex B.1, the standard's worked example (its own base point on an M163 field)
    "annex_b_163": (
        163, (7, 6, 3), 1, 0x5FF6108462A2DC8210AB403925E638A19C1455D21,
        0x72D867F93A93AC27DF9FF01AFFE74885C8C540420, 0x0224A9C3947852B97C5599D5F4AB81122ADC3FD9B,
        0x400000000000000000002BEC12BE2262D39BCF14D, 0x183F60FDF7951FF47D67193F8D073790C1C9B5A3E,
        0x01025E40BD97DB012B7A1D79DE8E12932D247F61C6,
        "09C9C44277910C9AAEE486883A2EB95B7180166DDF73532EEB76EDAEF52247FF",
        0x274EA2C0CAA014A0D80A424F59ADE7A93068D08A7, 0x2100D86957331832B8E8C230F5BD6A332B3615ACA,
    ),
    "bc_173": (
        173, (10, 2, 1), 0, 0x108576C80499DB2FC16EDDF6853BBB278F6B6FB437D9,
        0xBE6628EC3E67A91A4E470894FBA72B52C515F8AEE9, 0xD9DEEDF655CF5412313C11CA566CDC71F4DA57DB45C,
        0x800000000000000000000189B4E67606E3825BB2831, 0x955CD7E344303D1034E66933DC21C8044D42ADB8,
        0x137449348C1249971759D99C252FFE1E14D8B31F,
        "0137187EA862117EF1484289470ECAC802C5A651FDA8",
        0x13AE89746386709CDBD237CC5EC20CA30004A82EAD8, 0x3597912CDD093B3E711CCB74A79D3C4AB4C7CCCDC60,
    ),
    "bc_283": (
        283, (12, 7, 5), 1, 0x27B680AC8B8596DA5A4AF8A19A0303FCA97FD7645309FA2A581485AF6263E313B79A2F5,
        0x4D95820ACE761110824CE425C8089129487389B7F0E0A9D043DDC0BB0A4CC9EB25,
        0x954C9C4029B2C62DE35C2B9C2A164984BF1101951E3A68ED03DF234DDE5BB2013152F2,
        0x3FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEF90399660FC938A90165B042A7CEFADB307,
        0xB844EEAF15213E4BAD4FB84796D68F2448DB8EB7B4621EC0D51929874892C43E,
        0x245383CB3AD41BF30F5F7E8FBA858509B2D5558C92D539A6D994BFA98BC6940E,
        "0137187EA862117EF1484289470ECAC802C5A651FDA8",
        0x12A5EDCC38D92208FF23036D75B000C7E4BC0F9AF2D40B35F15D6FD15E01234E67781A8,
        0x2DE0775577F75B643CF5AFC80D4FE10B21100690F17E2CAB7BDC9B50EC87C5727AEB515,
    ),
    "bc_431": (
        431, (5, 3, 1), 1,
        0x3CE10490F6A708FC26DFE8C3D27C4F94E690134D5BFF988D8D28AAEAEDE975936C66BAC536B18AE2DC312CA493117DAA469C640CAF3,
        0x9548BCDF314CEEEAF099C780FFEFBF93F9FE5B5F55547603C9C8FC1A2774170882B3BE35E892C6D4296B8DEA282EC30FB344272791,
        0x4C6CBD7C62A8EEEFDE17A8B5E196E49A22CE6DE128ABD9FBD81FA4411AD5A38E2A810BEDE09A7C6226BCDCB4A4A5DA37B4725E00AA74,
        0x3FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFBA3175458009A8C0A724F02F81AA8A1FCBAF80D90C7A95110504CF,
        0xD0F97354E314191FD773E2404F478C8AEE0FF5109F39E6F37D1FEEC8B2ED1691D84C9882CC729E716A71CC013F66CAC60E29E22C,
        0xC4224DBBD800988DBAA39DE838294C345CDA5F5929D1174AA8D9340A5E79D10ACADE6B53CF873E7301A3871C2073AD75AB530457,
        "0137187EA862117EF1484289470ECAC802C5A651FDA8",
        0x1911FEFB1F494BEBCF8DFFDF5276946FF9C9F662192EE18C718DB47310A439C784FE07577B16E1EDBE16179876E0792A634F1C9C3A2E,
        0x3852170EE801C2083C52F1EA77B987A5432ACECD9C654F064E87BF179E0A397151EDBCA430082E43BD38A67B55424B5BBC7F2713F620,
    ),
}  # fmt: skip


def _known_answer(name: str) -> tuple[PrivateKey, bytes, int, int, int]:
    m, exponents, a, b, gx, gy, n, d, e, digest_hex, r, s = KNOWN_ANSWERS[name]
    curve = Curve(name, None, m, exponents, a, b, n, gx, gy)
    return PrivateKey(curve, d), _reversed(digest_hex), e & ((1 << (n.bit_length() - 1)) - 1), r, s


@pytest.mark.parametrize("name", sorted(KNOWN_ANSWERS))
def test_known_answers_sign_and_verify(name):
    key, digest, nonce, r, s = _known_answer(name)
    signature = key.sign_digest(digest, nonce=nonce)
    assert _halves(signature) == (r, s)
    public = key.public_key()
    assert public.verify_digest(digest, signature)
    assert not public.verify_digest(_flip(digest, 0), signature)
    assert not public.verify_digest(digest, _flip(signature, 0))  # r changed
    assert not public.verify_digest(digest, _flip(signature, len(signature) - 1, 3))  # s changed


def test_the_annex_b_digest_is_cut_to_m_bits():
    key, digest, _, _, _ = _known_answer("annex_b_163")
    # Annex B.1: h = H(T) reduced to 163 bits, the value printed in the standard
    assert dstu4145.digest_to_field(key.curve, digest) == 0x03A2EB95B7180166DDF73532EEB76EDAEF52247FF


def test_a_digest_longer_than_the_field_is_truncated():
    """Bouncy Castle's truncation vector: 26 bytes of ones on the m = 173 curve."""
    key, _, _, _, _ = _known_answer("bc_173")
    digest = bytes.fromhex("FF" * 26)
    # the test's fixed random stream, of which the first 22 bytes make the 171-bit nonce
    nonce = int.from_bytes(bytes.fromhex("0000C4224DBBD800988DBAA39DE838294C345CDA5F59"), "big") & (
        (1 << 171) - 1
    )
    signature = key.sign_digest(digest, nonce=nonce)
    r = 0x6BB5C0CB82E5067485458EBFE81025F03B687C63A27
    s = 0x34D6B1868969B86ECF934167C8FE352C63D1074BD
    assert _halves(signature) == (r, s)
    assert key.public_key().verify_digest(digest, signature)


def test_named_curves_are_the_standards():
    assert [curve.m for curve in CURVES.values()] == [163, 167, 173, 179, 191, 233, 257, 307, 367, 431]
    assert [CURVES_BY_OID[f"1.2.804.2.1.1.1.1.3.1.1.2.{i}"].name for i in range(10)] == list(CURVES)
    for curve in CURVES.values():
        assert curve.contains(curve.gx, curve.gy)
        assert curve.decompress(curve.compressed_base) == (curve.gx, curve.gy)
        group = curve.group()
        base = (dstu4145._spread(curve.gx), dstu4145._spread(curve.gy))
        assert group.x_of(group.multiply(curve.n, base)) is None, curve.name  # n·P is the infinity
        assert group.x_of(group.multiply(curve.n - 1, base)) == curve.gx  # (n-1)·P = -P


@pytest.mark.parametrize("name", ["M163", "M257", "M431"])
def test_trace_and_half_trace_follow_their_definitions(name):
    field = CURVES[name].field
    for a in (1, 2, 1 << (field.m - 1), 0x1234567890ABCDEF << 70, field.mask):
        power, trace = a, a
        for _ in range(field.m - 1):  # Tr(a) = a + a² + a⁴ + … + a^(2^(m-1))
            power = field.square(power)
            trace ^= power
        assert field.trace(a) == trace
        z = field.half_trace(a)
        assert field.square(z) ^ z == a ^ trace  # z² + z = a when Tr(a) = 0, a + 1 otherwise


def test_decompression_refuses_what_is_not_a_point():
    curve = CURVES["M257"]
    refused = 0
    for candidate in range(2, 200, 2):
        try:
            x, y = curve.decompress(candidate)
        except ValueError:
            refused += 1
        else:
            assert curve.contains(x, y)
            assert curve.compress(x, y) == candidate
    assert 0 < refused < 99  # about half of all x have no point
    with pytest.raises(ValueError):
        curve.decompress(1 << 257)


def test_sign_and_verify_on_a_named_curve_with_a_key_used_again_and_again(monkeypatch):
    monkeypatch.setattr(dstu4145, "KEY_TABLE_AFTER", 2)  # the key gets its table after two valid signatures
    key = PrivateKey.generate(CURVES["M257"])
    public = key.public_key()
    data = '{"declaration": "Декларація"}'.encode()
    signature = key.sign(data)
    assert len(signature) == 64
    for _ in range(3):  # twice without the key's table, then with it
        assert public.verify(data, signature)
        assert not public.verify(data + b" ", signature)
        assert not public.verify(data, _flip(signature, 40))
    assert dstu4145._key_table(public.curve, public.x, public.y) is not None
    other = PrivateKey.generate(CURVES["M257"]).public_key()
    assert not other.verify(data, signature)


def test_out_of_range_signatures_are_refused():
    key = PrivateKey.generate(CURVES["M163"])
    public = key.public_key()
    digest = gost34311_digest(b"document")
    signature = key.sign_digest(digest)
    half = len(signature) // 2
    r, s = _halves(signature)
    n = key.curve.n
    for bad_r, bad_s in ((0, s), (r, 0), (r + n, s), (r, s + n)):
        forged = bad_r.to_bytes(half + 1, "little")[:half] + bad_s.to_bytes(half + 1, "little")[:half]
        assert not public.verify_digest(digest, forged)
    assert not public.verify_digest(digest, signature[:-1])
    assert not public.verify_digest(digest, signature + b"\0\0")
    assert not public.verify_digest(digest, b"")


# --- SubjectPublicKeyInfo and the algorithm registry ----------------------------------------------------------


def _certificate_parts(data: bytes) -> dict:
    """What the chain check hands to the registry (asn1crypto cannot read a DSTU SPKI itself)."""
    tbs, algorithm, signature = der.sequence(der.element(data), 3)
    fields = der.sequence(tbs)
    spki = fields[6 if fields[0].class_ == der.CONTEXT else 5]
    return {
        "tbs": tbs.encoded,
        "algorithm": der.algorithm(algorithm)[0],
        "signature": signature.contents[1:],  # the BIT STRING's bytes: an OCTET STRING holding r‖s
        "key_oid": der.algorithm(der.sequence(spki)[0])[0],
        "spki": spki.encoded,
    }


def _issued_by(cert: dict, issuer: dict, tbs: bytes | None = None) -> bool:
    return signature_is_valid(
        issuer["key_oid"], issuer["spki"], cert["algorithm"], None, cert["signature"], tbs or cert["tbs"]
    )


def test_the_central_certification_authority_root_and_the_justice_ca_verify():
    root = _certificate_parts((DATA / "CZOROOT.cer").read_bytes())
    justice = _certificate_parts((DATA / "CA-Justice.cer").read_bytes())
    assert root["algorithm"] == justice["algorithm"] == root["key_oid"] == OID_DSTU4145
    assert public_key_load(OID_DSTU4145, root["spki"]).curve is CURVES["M431"]  # explicit parameters
    assert public_key_load(OID_DSTU4145, justice["spki"]).curve is CURVES["M257"]
    assert _issued_by(root, root)
    assert _issued_by(justice, root)
    assert not _issued_by(root, root, tbs=_flip(root["tbs"], 200))
    assert not _issued_by(justice, root, tbs=_flip(justice["tbs"], 600, 5))
    assert not _issued_by(justice, justice)  # its own key did not sign it


def test_a_jkurwa_cms_signature_verifies_and_is_reproduced():
    signed_data = cms.ContentInfo.load((DATA / "message.p7").read_bytes())["content"]
    signer_info = signed_data["signer_infos"][0]
    cert = _certificate_parts(signed_data["certificates"][0].chosen.dump())
    assert cert["spki"] in (DATA / "SELF_SIGNED1.cer").read_bytes()
    attributes = {a["type"].native: a["values"][0].native for a in signer_info["signed_attrs"]}
    assert gost34311_digest(b"123") == attributes["message_digest"]
    signed = signer_info["signed_attrs"].untag().dump()
    signature = signer_info["signature"].native  # raw r‖s in CMS
    algorithm = signer_info["signature_algorithm"]["algorithm"].dotted
    assert signer_info["digest_algorithm"]["algorithm"].dotted == OID_GOST34311
    assert signature_is_valid(
        cert["key_oid"], cert["spki"], algorithm, None, signature, signed, OID_GOST34311
    )
    assert not signature_is_valid(
        cert["key_oid"], cert["spki"], algorithm, None, signature, _flip(signed, 30), OID_GOST34311
    )
    # jkurwa's test key (d is "1234…9012" little-endian) with its tests' fixed nonce signs the same bytes
    private = der.sequence(der.element((DATA / "PRIV1.cer").read_bytes()))
    d = int.from_bytes(der.octets(private[2]), "little")
    key = PrivateKey(CURVES["M257"], d)
    public = public_key_load(cert["key_oid"], cert["spki"])
    assert (key.public_key().x, key.public_key().y) == (public.x, public.y)
    nonce = int.from_bytes(b"12345678901234567890123456789012", "big")
    assert key.sign_digest(gost34311_digest(signed), nonce=nonce) == signature


@pytest.mark.parametrize("explicit", [False, True])
def test_spki_round_trip(explicit):
    key = PrivateKey.generate(CURVES["M257"]).public_key()
    loaded = public_key_from_spki(spki_encode(key, explicit=explicit))
    assert loaded.curve is CURVES["M257"]
    assert (loaded.x, loaded.y, loaded.sbox) == (key.x, key.y, None)


def test_spki_of_a_curve_given_only_by_its_parameters():
    key, digest, nonce, _, _ = _known_answer("annex_b_163")
    spki = spki_encode(key.public_key())
    loaded = public_key_from_spki(spki)
    assert loaded.curve.oid is None and loaded.curve.gx == key.curve.gx
    assert loaded.verify_digest(digest, key.sign_digest(digest, nonce=nonce))


def test_certificate_signatures_come_wrapped_cms_signatures_raw():
    key = PrivateKey.generate(CURVES["M257"])
    spki = spki_encode(key.public_key())
    data = b"to be signed"
    raw = key.sign(data)
    wrapped = bytes([4, len(raw)]) + raw
    assert signature_is_valid(OID_DSTU4145, spki, OID_DSTU4145, None, raw, data, OID_GOST34311)
    assert signature_is_valid(OID_DSTU4145, spki, OID_DSTU4145, None, wrapped, data)
    assert not signature_is_valid(OID_DSTU4145, spki, OID_DSTU4145, None, wrapped[:-1], data)


def test_registry_refusals():
    key = PrivateKey.generate(CURVES["M257"])
    spki = spki_encode(key.public_key())
    raw = key.sign(b"data")
    with pytest.raises(SignatureError) as error:  # DSTU 4145 with a digest other than GOST 34.311
        signature_is_valid(OID_DSTU4145, spki, OID_DSTU4145, None, raw, b"data", SHA256)
    assert error.value.code == "unsupported_algorithm"

    unknown_curve = spki.replace(
        bytes.fromhex("2a862402010101010301010206"), bytes.fromhex("2a862402010101010301010263")
    )
    with pytest.raises(SignatureError) as error:
        signature_is_valid(OID_DSTU4145, unknown_curve, OID_DSTU4145, None, raw, b"data")
    assert error.value.code == "unsupported_algorithm"

    compressed = key.public_key().compressed()
    off_curve = next(
        spki.replace(compressed, candidate)
        for candidate in (_flip(compressed, 5, bit) for bit in range(8))
        if not _decompresses(candidate)
    )
    for broken in (off_curve, spki[:-3], spki + b"\0"):
        with pytest.raises(SignatureError) as error:
            signature_is_valid(OID_DSTU4145, broken, OID_DSTU4145, None, raw, b"data")
        assert error.value.code == "invalid_certificate"


def _decompresses(value: bytes) -> bool:
    try:
        PublicKey.from_compressed(CURVES["M257"], value)
    except ValueError:
        return False
    return True


def test_rsa_keys_refuse_the_gost_digest():
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    spki = private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with pytest.raises(SignatureError) as error:
        signature_is_valid(OID_RSA, spki, OID_RSA, None, b"\0" * 256, b"data", OID_GOST34311)
    assert error.value.code == "unsupported_algorithm"
