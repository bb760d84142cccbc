#!/usr/bin/env python
"""Signature verification throughput on one core: full `verify_signature` beside the raw key operation.

    .venv/bin/python bench/bench_signatures.py [--seconds 2] [--no-write]

For RSA-2048 and ECDSA P-256 (signer certificate issued by a root anchor, attached content, a CRL
in place) it measures verifications per second of the portal's `verify_signature` and of the bare
`public_key.verify(signature, signed_attributes)` for the same signature. It prints a Markdown
table and rewrites the signature section of docs/benchmarks.md. Exit status 1 if the target
(2,000 full verifications per second per core) is missed.
"""

import argparse
import datetime as dt
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from report import DOC, cpu_model, document_update  # bench/report.py (the script's folder)

ROOT = Path(__file__).resolve().parents[1]
TARGET = 2000
# A typical signed request: a declaration of about 1 KB of JSON.
CONTENT = (
    '{"declaration_request": {"person": {"last_name": "Шевченко", "first_name": "Тарас", '
    '"tax_id": "3067305998"}, "employee_id": "8f5e3a2c-1b4d-4e6f-9a8b-7c6d5e4f3a2b", '
    '"legal_entity_id": "1a2b3c4d-5e6f-7081-92a3-b4c5d6e7f809", "seed": "' + "a" * 64 + '", '
    '"scope": "family_doctor", "start_date": "2026-01-01", "content": "' + "Текст декларації. " * 30 + '"}}'
).encode()


def setup_django(directory: Path) -> None:
    os.environ["SIGNATURE_CA_BUNDLE"] = str(directory / "bundle.pem")
    os.environ["SIGNATURE_CRLS"] = str(directory / "crls")
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ehealth_portal.test_settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def rate(function: Callable[[], object], seconds: float, repeats: int = 3) -> float:
    """Median calls per second over `repeats` runs of about `seconds` each."""
    results = []
    for _ in range(repeats):
        calls, start = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - start) < seconds:
            for _ in range(100):
                function()
            calls += 100
        results.append(calls / elapsed)
    return statistics.median(results)


def cases(directory: Path) -> list[tuple[str, bytes, Callable[[], object]]]:
    """(label, signature, raw verify) per key type; writes the anchors and CRLs they need."""
    from asn1crypto import cms
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding

    from ehealth_portal.signatures.devpki import (
        ca_create,
        certificate_issue,
        cms_sign,
        crl_create,
        key_generate,
    )

    (directory / "crls").mkdir()
    found, anchors = [], []
    for label, key_type in (("RSA-2048", "rsa"), ("ECDSA P-256", "ec")):
        root = ca_create(f"Benchmark Root {label}", key=key_generate(key_type))
        anchors.append(root.certificate.public_bytes(serialization.Encoding.PEM))
        crl = crl_create(root, [])
        (directory / "crls" / f"{key_type}.crl").write_bytes(crl.public_bytes(serialization.Encoding.DER))
        signer = certificate_issue(
            root, surname="Шевченко", given_names="Тарас", drfo="3067305998", key_type=key_type
        )
        signature = cms_sign(CONTENT, signer)
        # The raw operation on the same bytes: what the key math alone costs.
        signer_info = cms.ContentInfo.load(signature)["content"]["signer_infos"][0]
        signed_attributes = signer_info["signed_attrs"].untag().dump()
        value = signer_info["signature"].native
        public_key = signer.certificate.public_key()
        if key_type == "rsa":

            def raw(key=public_key, value=value, data=signed_attributes) -> None:
                key.verify(value, data, padding.PKCS1v15(), hashes.SHA256())
        else:

            def raw(key=public_key, value=value, data=signed_attributes) -> None:
                key.verify(value, data, ec.ECDSA(hashes.SHA256()))

        found.append((label, signature, raw))
    (directory / "bundle.pem").write_bytes(b"".join(anchors))
    return found


def machine() -> dict[str, str]:
    import asn1crypto
    import cryptography
    from cryptography.hazmat.backends.openssl import backend

    model = cpu_model()
    return {
        "CPU": model,
        "nproc": str(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()),
        "Python": platform.python_version(),
        "cryptography": f"{cryptography.__version__} ({backend.openssl_version_text()})",
        "asn1crypto": asn1crypto.__version__,
    }


def pin_to_one_core() -> str:
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned"
    core = min(os.sched_getaffinity(0))
    info = machine()  # read nproc before pinning
    os.sched_setaffinity(0, {core})
    return f"pinned to CPU {core} of {info['nproc']}"


def report(rows: list[tuple[str, float, float]], info: dict[str, str], pinned: str, seconds: float) -> str:
    met = all(full >= TARGET for _label, full, _raw in rows)
    lines = [
        "## Signature verification",
        "",
        f"Measured {dt.date.today().isoformat()} by `bench/bench_signatures.py` ({pinned}; median of 3 runs "
        f"of {seconds:g} s). Machine: {info['CPU']}, nproc {info['nproc']}; Python {info['Python']}; "
        f"cryptography {info['cryptography']}; asn1crypto {info['asn1crypto']}.",
        "",
        "Each call verifies the envelope from scratch: decode, parse the CMS, check messageDigest "
        "against the ~1 KB attached content, verify the signature over the signed attributes, build "
        "the chain (signer certificate issued by a root anchor), check validity at signing time and "
        "now, key usage, and the CRL (with its stat() checks). Cached across calls: trust anchors and "
        "CRLs (until their files change), parsed certificates, and each certificate's "
        "issuer-signature check (pure functions of the bytes). The signer's signature is never cached.",
        "",
        "| Algorithm | Full `verify_signature` /s | Raw `public_key.verify` /s | Full / raw | Target |",
        "|---|---:|---:|---:|---|",
    ]
    for label, full, raw in rows:
        verdict = "met" if full >= TARGET else "MISSED"
        lines.append(f"| {label} | {full:,.0f} | {raw:,.0f} | {full / raw:.0%} | ≥ {TARGET:,}/s {verdict} |")
    lines += [
        "",
        f"Target {'met' if met else 'missed'}: at least {TARGET:,} full verifications per second per core.",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="length of each timed run")
    parser.add_argument("--no-write", action="store_true", help="do not update docs/benchmarks.md")
    arguments = parser.parse_args()

    with tempfile.TemporaryDirectory() as temporary:
        directory = Path(temporary)
        setup_django(directory)
        from ehealth_portal.signatures import verify_signature

        info = machine()
        pinned = pin_to_one_core()
        rows = []
        for label, signature, raw in cases(directory):
            document = verify_signature(signature)  # warm the anchor, CRL and certificate caches
            assert document.content == CONTENT and document.signer.drfo == "3067305998"
            full = rate(lambda signature=signature: verify_signature(signature), arguments.seconds)
            rows.append((label, full, rate(raw, arguments.seconds)))

    section = report(rows, info, pinned, arguments.seconds)
    print(section)
    if not arguments.no_write:
        document_update("signatures", section)
        print(f"\nUpdated {DOC.relative_to(ROOT)}")
    return 0 if all(full >= TARGET for _label, full, _raw in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
