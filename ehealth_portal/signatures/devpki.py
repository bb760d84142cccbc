"""A development PKI: a local test CA that issues certificates shaped like Ukrainian qualified ones.

For development, tests, the benchmark and demo data only. The CA keys are stored unencrypted under
settings.DEVPKI_DIR (var/pki, git-ignored); never point production trust settings at this CA.

Pure functions (`key_generate`, `ca_create`, `certificate_issue`, `crl_create`, `cms_sign`) work in
memory; `DevPki` keeps a CA on disk and maintains the trust bundle and CRLs the verifier reads.
"""

import datetime as dt
import json
import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from asn1crypto import core
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs7, pkcs12
from cryptography.x509.oid import NameOID
from django.conf import settings

from . import devpki_dstu as dstu
from . import dstu4145
from .certificates import OID_EKU_STAMP, OID_SDA, OID_SDA_DRFO, OID_SDA_EDRPOU, SubjectDirectoryAttributes

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | dstu4145.PrivateKey

DEFAULT_PASSWORD = "devpki"  # of the exported PKCS#12 files; development only
ROOT_NAME = "eHealth Portal Development Root CA"
INTERMEDIATE_NAME = "eHealth Portal Development Issuing CA"
# A DSTU CA is named apart so that it can share the trust bundle and CRL folder with an RSA/ECDSA one.
DSTU_ROOT_NAME = "eHealth Portal Development DSTU Root CA"
DSTU_INTERMEDIATE_NAME = "eHealth Portal Development DSTU Issuing CA"
DEV_ORGANIZATION = "eHealth Portal Development PKI"
KEY_TYPES = ("rsa", "ec", "ec384", "dstu")
DSTU_CURVE = "M257"  # what Ukrainian qualified CAs issue most
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
OID_ORGANIZATION_IDENTIFIER = x509.ObjectIdentifier("2.5.4.97")


@dataclass(frozen=True)
class Credential:
    """A certificate with its private key, and the intermediates to ship with its signatures."""

    certificate: x509.Certificate
    private_key: PrivateKey
    chain: tuple[x509.Certificate, ...] = ()


# --- In memory ------------------------------------------------------------------------------------


def key_generate(key_type: str = "rsa") -> PrivateKey:
    """rsa: RSA-2048; ec: P-256; ec384: P-384; dstu: DSTU 4145-2002 on M257."""
    if key_type == "dstu":
        return dstu4145.PrivateKey.generate(dstu4145.CURVES[DSTU_CURVE])
    if key_type == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if key_type == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    if key_type == "ec384":
        return ec.generate_private_key(ec.SECP384R1())
    raise ValueError(f"key type {key_type!r}: one of {', '.join(KEY_TYPES)}")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _hash_for(key: PrivateKey) -> hashes.HashAlgorithm:
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.key_size >= 384:
        return hashes.SHA384()
    return hashes.SHA256()


def ca_create(
    common_name: str,
    *,
    issuer: Credential | None = None,
    key: PrivateKey | None = None,
    days: int = 3650,
    not_before: dt.datetime | None = None,
    path_length: int | None = None,
) -> Credential:
    """A self-signed root CA, or an intermediate CA when `issuer` is given."""
    key = key or key_generate("rsa")
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "UA"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, DEV_ORGANIZATION),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )
    start = not_before or _now() - dt.timedelta(days=1)
    signing_key = issuer.private_key if issuer else key
    if dstu.is_dstu(key) or dstu.is_dstu(signing_key):
        extensions = [
            dstu.extension(
                "2.5.29.19",
                asn1_x509.BasicConstraints({"ca": True, "path_len_constraint": path_length}),
                True,
            ),
            dstu.extension("2.5.29.15", asn1_x509.KeyUsage({"key_cert_sign", "crl_sign"}), True),
            dstu.extension("2.5.29.14", core.OctetString(dstu.key_id(key))),
        ]
        if issuer:
            extensions.append(dstu.extension("2.5.29.35", dstu.aki_value(issuer)))
        certificate = dstu.certificate_build(
            name, issuer.certificate.subject if issuer else name, key, signing_key,
            start, start + dt.timedelta(days=days), extensions,
        )  # fmt: skip
        return Credential(certificate, key, (issuer.certificate, *issuer.chain) if issuer else ())
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer.certificate.subject if issuer else name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(_key_usage(key_cert_sign=True, crl_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if issuer:
        builder = builder.add_extension(_aki(issuer), critical=False)
    certificate = builder.sign(signing_key, _hash_for(signing_key))
    chain = (issuer.certificate, *issuer.chain) if issuer else ()
    return Credential(certificate, key, chain)


def _key_usage(**usages: bool) -> x509.KeyUsage:
    names = [
        "digital_signature",
        "content_commitment",
        "key_encipherment",
        "data_encipherment",
        "key_agreement",
        "key_cert_sign",
        "crl_sign",
        "encipher_only",
        "decipher_only",
    ]
    return x509.KeyUsage(**{name: usages.get(name, False) for name in names})


def _aki(issuer: Credential) -> x509.AuthorityKeyIdentifier:
    return x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.private_key.public_key())


def subject_directory_attributes(drfo: str | None, edrpou: str | None) -> bytes:
    """The 2.5.29.9 extension value Ukrainian CAs use for DRFO (РНОКПП) and EDRPOU."""
    attributes = []
    for oid, value in ((OID_SDA_DRFO, drfo), (OID_SDA_EDRPOU, edrpou)):
        if value:
            attributes.append({"type": oid, "values": [core.PrintableString(value)]})
    return SubjectDirectoryAttributes(attributes).dump()


def certificate_issue(
    issuer: Credential,
    *,
    surname: str,
    given_names: str,
    drfo: str | None = None,
    edrpou: str | None = None,
    organization: str | None = None,
    title: str | None = None,
    key: PrivateKey | None = None,
    key_type: str = "rsa",
    days: int = 365,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
    key_usage: Iterable[str] = ("digital_signature", "content_commitment"),
    directory_attributes: bool = True,
    etsi_identifiers: bool = True,
    stamp: bool = False,
) -> Credential:
    """A personal signing certificate carrying DRFO/EDRPOU as Ukrainian qualified certificates do.

    `directory_attributes`: DRFO/EDRPOU in subjectDirectoryAttributes; `etsi_identifiers`: subject
    serialNumber "TINUA-<drfo>" and organizationIdentifier "NTRUA-<edrpou>". `key_usage` names
    cryptography's KeyUsage fields (content_commitment = nonRepudiation).
    """
    key = key or key_generate(key_type)
    attributes = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "UA"),
        x509.NameAttribute(NameOID.COMMON_NAME, f"{surname} {given_names}"),
        x509.NameAttribute(NameOID.SURNAME, surname),
        x509.NameAttribute(NameOID.GIVEN_NAME, given_names),
    ]
    if title:
        attributes.append(x509.NameAttribute(NameOID.TITLE, title))
    if edrpou or organization:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization or DEV_ORGANIZATION))
    if etsi_identifiers and drfo:
        attributes.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, f"TINUA-{drfo}"))
    if etsi_identifiers and edrpou:
        attributes.append(x509.NameAttribute(OID_ORGANIZATION_IDENTIFIER, f"NTRUA-{edrpou}"))
    start = not_before or _now() - dt.timedelta(minutes=5)
    end = not_after or start + dt.timedelta(days=days)
    if dstu.is_dstu(key) or dstu.is_dstu(issuer.private_key):
        usages = {"non_repudiation" if usage == "content_commitment" else usage for usage in key_usage}
        extensions = [
            dstu.extension("2.5.29.19", asn1_x509.BasicConstraints({"ca": False}), True),
            dstu.extension("2.5.29.15", asn1_x509.KeyUsage(usages), True),
            dstu.extension("2.5.29.14", core.OctetString(dstu.key_id(key))),
            dstu.extension("2.5.29.35", dstu.aki_value(issuer)),
        ]
        if directory_attributes and (drfo or edrpou):
            extensions.append(dstu.extension(OID_SDA, subject_directory_attributes(drfo, edrpou)))
        if stamp:
            extensions.append(dstu.extension("2.5.29.37", asn1_x509.ExtKeyUsageSyntax([OID_EKU_STAMP])))
        subject, issuer_name = x509.Name(attributes), issuer.certificate.subject
        certificate = dstu.certificate_build(
            subject, issuer_name, key, issuer.private_key, start, end, extensions
        )
        return Credential(certificate, key, (issuer.certificate, *issuer.chain))
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name(attributes))
        .issuer_name(issuer.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(**dict.fromkeys(key_usage, True)), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(_aki(issuer), critical=False)
    )
    if directory_attributes and (drfo or edrpou):
        sda = x509.UnrecognizedExtension(
            x509.ObjectIdentifier(OID_SDA), subject_directory_attributes(drfo, edrpou)
        )
        builder = builder.add_extension(sda, critical=False)
    if stamp:
        eku = x509.ExtendedKeyUsage([x509.ObjectIdentifier(OID_EKU_STAMP)])
        builder = builder.add_extension(eku, critical=False)
    certificate = builder.sign(issuer.private_key, _hash_for(issuer.private_key))
    return Credential(certificate, key, (issuer.certificate, *issuer.chain))


def crl_create(
    issuer: Credential, serials: Iterable[int], *, days: int = 30
) -> x509.CertificateRevocationList:
    """A CRL signed by `issuer` listing `serials` (empty is fine: "nothing revoked")."""
    now = _now()
    if dstu.is_dstu(issuer.private_key):
        return dstu.crl_build(issuer, serials, now, now + dt.timedelta(days=days))
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.certificate.subject)
        .last_update(now)
        .next_update(now + dt.timedelta(days=days))
        .add_extension(_aki(issuer), critical=False)
        .add_extension(x509.CRLNumber(int(now.timestamp())), critical=False)
    )
    for serial in sorted(set(serials)):
        entry = x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(now).build()
        builder = builder.add_revoked_certificate(entry)
    return builder.sign(issuer.private_key, _hash_for(issuer.private_key))


def cms_sign(
    content: bytes,
    signers: Credential | Sequence[Credential],
    *,
    detached: bool = False,
    hash_algorithm: hashes.HashAlgorithm | None = None,
    pss: bool = False,
    attributes: bool = True,
    encoding: serialization.Encoding = serialization.Encoding.DER,
) -> bytes:
    """CMS SignedData (DER by default) made by cryptography's PKCS7SignatureBuilder.

    The signers' intermediates are included so that a verifier trusting only the root can build
    the chain. `attributes=False` signs the content directly (no signed attributes).
    """
    signers = [signers] if isinstance(signers, Credential) else list(signers)
    if any(dstu.is_dstu(signer.private_key) for signer in signers):
        if encoding != serialization.Encoding.DER or pss or hash_algorithm is not None:
            raise ValueError("DSTU 4145 signatures: DER, GOST 34.311 only")
        return dstu.cms_build(content, signers, detached=detached, attributes=attributes)
    builder = pkcs7.PKCS7SignatureBuilder().set_data(content)
    extra: dict[bytes, x509.Certificate] = {}
    for signer in signers:
        algorithm = hash_algorithm or _hash_for(signer.private_key)
        rsa_padding = padding.PSS(padding.MGF1(algorithm), padding.PSS.DIGEST_LENGTH) if pss else None
        builder = builder.add_signer(
            signer.certificate, signer.private_key, algorithm, rsa_padding=rsa_padding
        )
        for cert in signer.chain[:-1] if len(signer.chain) > 1 else ():  # intermediates, not the root
            extra[cert.fingerprint(hashes.SHA256())] = cert
    for cert in extra.values():
        builder = builder.add_certificate(cert)
    options = [pkcs7.PKCS7Options.Binary]
    options.append(pkcs7.PKCS7Options.NoCapabilities if attributes else pkcs7.PKCS7Options.NoAttributes)
    if detached:
        options.append(pkcs7.PKCS7Options.DetachedSignature)
    return builder.sign(encoding, options)


# --- On disk --------------------------------------------------------------------------------------


def _write(path: Path, data: bytes, *, private: bool = False) -> None:
    """Atomic replace (new inode), so caches keyed by stat() always notice the change."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
        os.chmod(temporary, 0o600 if private else 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _head(path: Path) -> bytes:
    try:
        with open(path, "rb") as file:
            return file.read(64)
    except OSError:
        return b""


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: PrivateKey) -> bytes:
    if isinstance(key, dstu4145.PrivateKey):
        return dstu.key_pem(key)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _key_load(data: bytes) -> PrivateKey:
    if dstu.is_key_pem(data):
        return dstu.key_load(data)
    key = serialization.load_pem_private_key(data, None)
    assert isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey)
    return key


class DevPkiError(Exception):
    pass


class DevPki:
    """A development CA in `directory`, maintaining the trust `bundle` and the `crls` file or folder.

    Layout: root.{cert,key}.pem, intermediate.{cert,key}.pem (optional), revoked.json,
    people/NAME.{cert.pem,key.pem,p12}.
    """

    def __init__(self, directory: Path, bundle: Path, crls: Path) -> None:
        self.directory = Path(directory)
        self.bundle = Path(bundle)
        self.crls = Path(crls)

    @classmethod
    def from_settings(cls) -> "DevPki":
        return cls(settings.DEVPKI_DIR, settings.SIGNATURE_CA_BUNDLE, settings.SIGNATURE_CRLS)

    # CA ----------------------------------------------------------------------------------------

    def exists(self) -> bool:
        return (self.directory / "root.cert.pem").exists()

    def init(self, *, intermediate: bool = False, force: bool = False, key_type: str = "rsa") -> bool:
        """Create the CA unless one exists (or `force`); always rewrite the bundle and CRLs.

        Returns whether a new CA was created.
        """
        created = force or not self.exists()
        if created:
            name = DSTU_ROOT_NAME if key_type == "dstu" else ROOT_NAME
            root = ca_create(name, key=key_generate(key_type))
            self._credential_save("root", root)
            (self.directory / "intermediate.cert.pem").unlink(missing_ok=True)
            (self.directory / "intermediate.key.pem").unlink(missing_ok=True)
            _write(self.directory / "revoked.json", b"{}")
        if intermediate and not (self.directory / "intermediate.cert.pem").exists():
            root = self.root()
            name = DSTU_INTERMEDIATE_NAME if dstu.is_dstu(root.private_key) else INTERMEDIATE_NAME
            issuing = ca_create(name, issuer=root, key=key_generate(key_type), path_length=0)
            self._credential_save("intermediate", issuing)
        self._bundle_write()
        self._crls_write()
        return created

    def root(self) -> Credential:
        return self._credential_load(self.directory / "root")

    def issuing_ca(self) -> Credential:
        """The intermediate when there is one, else the root."""
        if (self.directory / "intermediate.cert.pem").exists():
            return self._credential_load(self.directory / "intermediate", chain=(self.root().certificate,))
        return self.root()

    def _credential_save(self, stem: str, credential: Credential) -> None:
        _write(self.directory / f"{stem}.key.pem", _key_pem(credential.private_key), private=True)
        _write(self.directory / f"{stem}.cert.pem", _pem(credential.certificate))

    def _credential_load(self, stem: Path, chain: tuple[x509.Certificate, ...] = ()) -> Credential:
        if not stem.with_name(f"{stem.name}.cert.pem").exists():
            raise DevPkiError(f"{stem.name}: no such certificate in {self.directory} (run `devpki init`?)")
        certificate = x509.load_pem_x509_certificate(stem.with_name(f"{stem.name}.cert.pem").read_bytes())
        key = _key_load(stem.with_name(f"{stem.name}.key.pem").read_bytes())
        return Credential(certificate, key, chain)

    def _bundle_write(self) -> None:
        """Put our root into the bundle, replacing earlier development roots and keeping the rest."""
        root = self.root().certificate
        kept = [cert for cert in self._bundle_certificates() if cert.subject != root.subject]
        _write(self.bundle, b"".join(_pem(cert) for cert in [*kept, root]))

    def _bundle_certificates(self) -> list[x509.Certificate]:
        try:
            return x509.load_pem_x509_certificates(self.bundle.read_bytes())
        except (OSError, ValueError):  # no bundle yet, or no certificate in it
            return []

    # Revocation --------------------------------------------------------------------------------

    def _revoked(self) -> dict[str, list[int]]:
        path = self.directory / "revoked.json"
        return json.loads(path.read_text()) if path.exists() else {}

    def _crls_write(self) -> None:
        revoked = self._revoked()
        prefix = "devpki-dstu" if dstu.is_dstu(self.root().private_key) else "devpki"
        pems = []
        for stem in ("root", "intermediate"):
            if (self.directory / f"{stem}.cert.pem").exists():
                issuer = self._credential_load(self.directory / stem)
                crl = crl_create(issuer, revoked.get(stem, []))
                pems.append((stem, crl.public_bytes(serialization.Encoding.PEM)))
        if self.crls.is_file() or (not self.crls.is_dir() and self.crls.suffix):  # one PEM file
            _write(self.crls, b"".join(pem for _stem, pem in pems))
        else:
            for stem, pem in pems:
                _write(self.crls / f"{prefix}-{stem}.crl.pem", pem)
            if not any(stem == "intermediate" for stem, _pem in pems):
                (self.crls / f"{prefix}-intermediate.crl.pem").unlink(missing_ok=True)

    def revoke(self, name: str) -> int:
        """List NAME's certificate on its CA's CRL; returns its serial number."""
        certificate = self.credential(name).certificate
        for stem in ("intermediate", "root"):
            path = self.directory / f"{stem}.cert.pem"
            if (
                path.exists()
                and x509.load_pem_x509_certificate(path.read_bytes()).subject == certificate.issuer
            ):
                break
        else:
            raise DevPkiError(f"{name} was not issued by this CA")
        revoked = self._revoked()
        revoked[stem] = sorted({*revoked.get(stem, []), certificate.serial_number})
        _write(self.directory / "revoked.json", json.dumps(revoked).encode())
        self._crls_write()
        return certificate.serial_number

    # People ------------------------------------------------------------------------------------

    def _person(self, name: str) -> Path:
        if not NAME_PATTERN.match(name):
            raise DevPkiError(f"{name!r}: use letters, digits, '.', '_' and '-'")
        return self.directory / "people" / name

    def issue(self, name: str, *, password: str = DEFAULT_PASSWORD, **fields: object) -> Credential:
        """Issue a certificate (see `certificate_issue` for the fields) and save it as NAME."""
        stem = self._person(name)
        credential = certificate_issue(self.issuing_ca(), **fields)  # type: ignore[arg-type]
        _write(stem.with_name(f"{name}.key.pem"), _key_pem(credential.private_key), private=True)
        _write(stem.with_name(f"{name}.cert.pem"), _pem(credential.certificate))
        if dstu.is_dstu(credential.private_key):
            return credential  # PKCS#12 cannot carry a DSTU key for cryptography: the PEM key only
        p12 = pkcs12.serialize_key_and_certificates(
            name.encode(),
            credential.private_key,
            credential.certificate,
            list(credential.chain),
            serialization.BestAvailableEncryption(password.encode()),
        )
        _write(stem.with_name(f"{name}.p12"), p12, private=True)
        return credential

    def key6_write(self, name: str, *, password: str = DEFAULT_PASSWORD) -> Path:
        """Write NAME's DSTU key as NAME.dat, a password-protected Key-6.dat that jkurwa (the browser
        signing page) opens; on demand, since deriving its key costs a few seconds in Python."""
        key = self.credential(name).private_key
        if not dstu.is_dstu(key):
            raise DevPkiError(f"{name} has no DSTU 4145 key")
        path = self._person(name).with_name(f"{name}.dat")
        _write(path, dstu.key6_build(key, password), private=True)
        return path

    def credential(self, name: str) -> Credential:
        """NAME's certificate and key, with the CA certificates above it."""
        person = self._credential_load(self._person(name))
        chain: tuple[x509.Certificate, ...] = ()
        for stem in ("intermediate", "root"):
            path = self.directory / f"{stem}.cert.pem"
            if path.exists():
                cert = x509.load_pem_x509_certificate(path.read_bytes())
                if cert.subject == (chain[-1].issuer if chain else person.certificate.issuer):
                    chain = (*chain, cert)
        return Credential(person.certificate, person.private_key, chain)

    def paths(self, name: str) -> dict[str, Path]:
        stem = self._person(name)
        paths = {kind: stem.with_name(f"{name}.{kind}") for kind in ("cert.pem", "key.pem", "p12")}
        if dstu.is_key_pem(_head(paths["key.pem"])):
            del paths["p12"]  # not written for a DSTU key (see `issue`)
        return paths


def devpki_init(
    directory: Path | None = None,
    *,
    bundle: Path | None = None,
    crls: Path | None = None,
    intermediate: bool = False,
    force: bool = False,
    key_type: str = "rsa",
) -> DevPki:
    """Create (or refresh) the development CA; paths default to the settings."""
    pki = DevPki(
        directory or settings.DEVPKI_DIR,
        bundle or settings.SIGNATURE_CA_BUNDLE,
        crls or settings.SIGNATURE_CRLS,
    )
    pki.init(intermediate=intermediate, force=force, key_type=key_type)
    return pki
