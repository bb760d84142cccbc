"""DSTU key containers: devpki's Key-6.dat, and the vendored jkurwa bundle signing from key files.

The Key-6.dat writer is checked against a container jkurwa's tests made (STORE_A040.dat, password
"password"); the browser bundle static/vendor/jkurwa/ehealth-dstu.js is run in node (the project's
`npm ci` needs node, so it is present wherever the assets build) and its CMS must pass
`verify_signature`.
"""

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from ehealth_portal.signatures import SignatureError, verify_signature
from ehealth_portal.signatures import devpki_dstu as dstu
from ehealth_portal.signatures.devpki import DevPki, ca_create, certificate_issue, crl_create, key_generate
from ehealth_portal.signatures.dstu4145 import PrivateKey

DATA = Path(__file__).parent / "data" / "dstu"
BUNDLE = Path(__file__).parents[2] / "static" / "vendor" / "jkurwa" / "ehealth-dstu.js"
CONTENT = '{"declaration": "Декларація", "id": 42}\n'.encode()
PERSON = {"surname": "Шевченко", "given_names": "Тарас Григорович", "drfo": "3067305998"}
NODE = shutil.which("node")
JKURWA_A040_X = "165ec10aee952f876103791b5d8bb0cdee4e0d09d6933603392851eff00130a23"
needs_node = pytest.mark.skipif(NODE is None, reason="node is not installed")

# Runs the bundle as a page would (no node modules, no global Buffer): argv = request JSON path.
RUNNER = r"""
const fs = require("fs"), vm = require("vm");
const request = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
const context = { crypto: globalThis.crypto, console, TextEncoder };
vm.createContext(context);
vm.runInContext(fs.readFileSync(request.bundle, "utf8"), context);
const D = context.EhealthDstu;
const read = (path) => (path ? new Uint8Array(fs.readFileSync(path)) : undefined);
(async () => {
  try {
    const key = read(request.key);
    if (request.op === "public") {
      process.stdout.write(JSON.stringify({ ok: D.publicKeys({ key, password: request.password }) }));
      return;
    }
    const der = await D.signWithKeyFile({
      key, password: request.password, certificate: read(request.certificate),
      content: read(request.content), detached: request.detached,
    });
    process.stdout.write(JSON.stringify({ ok: Buffer.from(der).toString("base64") }));
  } catch (error) {
    process.stdout.write(JSON.stringify({ code: error.code || "error", message: error.message }));
  }
})();
"""


def _bundle(tmp_path: Path, **request) -> dict:
    for name in ("key", "certificate", "content"):
        if isinstance(request.get(name), bytes):
            path = tmp_path / f"{name}.bin"
            path.write_bytes(request[name])
            request[name] = str(path)
    path = tmp_path / "request.json"
    path.write_text(json.dumps({"bundle": str(BUNDLE), **request}))
    done = subprocess.run([NODE, "-e", RUNNER, str(path)], capture_output=True, timeout=120, check=True)
    return json.loads(done.stdout)


def _store_a040_parameters() -> tuple[bytes, bytes]:
    store = dstu._Key6.load((DATA / "STORE_A040.dat").read_bytes())
    parameters = store["algorithm"]["parameters"]
    return parameters["cipher"]["parameters"]["iv"].native, parameters["kdf"]["parameters"]["salt"].native


# --- Key-6.dat in Python -------------------------------------------------------------------------------


def test_jkurwas_key6_container_decrypts_to_its_plain_key():
    inner = dstu.key6_decrypt((DATA / "STORE_A040.dat").read_bytes(), "password")
    assert inner == (DATA / "Key40A0.cer").read_bytes()


def test_the_key6_writer_reproduces_jkurwas_container_byte_for_byte():
    iv, salt = _store_a040_parameters()
    secret = dstu.key6_kdf(b"password", salt)
    rewritten = dstu.key6_wrap((DATA / "Key40A0.cer").read_bytes(), secret, iv=iv, salt=salt)
    assert rewritten == (DATA / "STORE_A040.dat").read_bytes()


def test_a_devpki_key6_file_reads_back_only_with_its_password(tmp_path):
    pki = DevPki(tmp_path / "pki", tmp_path / "bundle.pem", tmp_path / "crls")
    pki.init(key_type="dstu")
    credential = pki.issue("head", key_type="dstu", **PERSON)
    path = pki.key6_write("head", password="пароль-1")
    assert path.name == "head.dat" and path.stat().st_mode & 0o077 == 0
    assert dstu.key6_load(path.read_bytes(), "пароль-1").d == credential.private_key.d
    with pytest.raises(ValueError):
        dstu.key6_load(path.read_bytes(), "пароль-2")


# --- The browser bundle (jkurwa) in node ----------------------------------------------------------------


@pytest.fixture(scope="module")
def dstu_root():
    return ca_create("Test Root DSTU", key=key_generate("dstu"))


@pytest.fixture
def trusted(settings, tmp_path, dstu_root):
    settings.SIGNATURE_CA_BUNDLE = tmp_path / "bundle.pem"
    settings.SIGNATURE_CA_BUNDLE.write_bytes(dstu_root.certificate.public_bytes(serialization.Encoding.PEM))
    settings.SIGNATURE_CRLS = tmp_path / "crls"
    settings.SIGNATURE_CRLS.mkdir()
    (settings.SIGNATURE_CRLS / "root.crl").write_bytes(
        crl_create(dstu_root, []).public_bytes(serialization.Encoding.PEM)
    )
    return dstu_root


def _der(credential) -> bytes:
    return credential.certificate.public_bytes(serialization.Encoding.DER)


@needs_node
def test_the_bundle_opens_a_devpki_key6_file_with_the_same_public_key(tmp_path):
    key = key_generate("dstu")
    answer = _bundle(tmp_path, op="public", key=dstu.key6_build(key, "Секрет-1"), password="Секрет-1")
    assert len(answer["ok"]) == 1 and format(key.public_key().x, "x") in answer["ok"][0]
    refused = _bundle(tmp_path, op="public", key=dstu.key6_build(key, "Секрет-1"), password="wrong")
    assert refused["code"] == "wrong_password"


@needs_node
@pytest.mark.parametrize("detached", [False, True])
def test_a_cms_the_bundle_makes_from_a_devpki_key6_file_verifies(tmp_path, trusted, detached):
    key = key_generate("dstu")
    credential = certificate_issue(trusted, key=key, key_type="dstu", **PERSON)
    answer = _bundle(
        tmp_path,
        op="sign",
        key=dstu.key6_build(key, "devpki"),
        password="devpki",
        certificate=_der(credential),
        content=CONTENT,
        detached=detached,
    )
    document = verify_signature(answer["ok"], CONTENT if detached else None)
    assert document.content == CONTENT
    assert document.signer.drfo == "3067305998" and document.signer.surname == "Шевченко"
    with pytest.raises(SignatureError):
        verify_signature(answer["ok"], CONTENT + b" ")


@needs_node
def test_jkurwas_own_key6_container_signs_a_cms_that_verifies(tmp_path, trusted):
    # STORE_A040.dat holds jkurwa's test key; our DSTU root certifies its public key for the test.
    plain = PrivateKey_from_jkurwa((DATA / "Key40A0.cer").read_bytes())
    assert format(plain.public_key().x, "x") == JKURWA_A040_X  # the point jkurwa prints for the key
    credential = certificate_issue(trusted, key=plain, key_type="dstu", **PERSON)
    answer = _bundle(
        tmp_path,
        op="sign",
        key=(DATA / "STORE_A040.dat").read_bytes(),
        password="password",
        certificate=_der(credential),
        content=CONTENT,
        detached=False,
    )
    document = verify_signature(answer["ok"])
    assert document.content == CONTENT and document.signer.drfo == "3067305998"


def PrivateKey_from_jkurwa(inner: bytes) -> PrivateKey:  # noqa: N802
    """jkurwa's plain DstuPrivkey (Key40A0.cer): its curve, given in explicit parameters, is M257."""
    from asn1crypto import core

    from ehealth_portal.signatures import dstu4145

    d = core.OctetString.load(core.Sequence.load(inner)[2].dump()).native
    return PrivateKey(dstu4145.CURVES_BY_OID[dstu4145.CURVE_OID_PREFIX + "6"], int.from_bytes(d, "little"))
