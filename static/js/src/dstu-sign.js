// EhealthDstu: a CMS SignedData made in the browser from a Ukrainian DSTU 4145 key file
// (Key-6.dat / PBES2 with GOST 28147, IIT store, JKS, PKCS#12), with jkurwa and gost89.
//
// The key file and its password are used only here, in memory: this module makes no network calls
// (no timestamp, no OCSP, no CMP look-ups). Bundled by static/js/src/build.mjs into
// static/vendor/jkurwa/ehealth-dstu.js (window.EhealthDstu).
import { Buffer } from "buffer";
import gost89 from "gost89";
import jk from "jkurwa";

const algo = gost89.compat.algos();

/** An Error with a stable `code` the page translates: wrong_password, no_key, no_certificate. */
export class DstuSignError extends Error {
  constructor(code, message) {
    super(message);
    this.name = "DstuSignError";
    this.code = code;
  }
}

/** Loads the key file (and an optional separate certificate, PEM or DER) into a jkurwa Box. */
export function loadKey({ key, password, certificate }) {
  const box = new jk.Box({ algo });
  try {
    const bytes = Buffer.from(key);
    // gost89 reads a string password as Latin-1; UTF-8 bytes keep Cyrillic passwords intact
    // (JKS keeps its own UTF-16 string handling).
    const secret = !password ? undefined : isJks(bytes) ? password : Buffer.from(password, "utf8");
    box.load({ keyBuffers: [bytes], password: secret });
    if (certificate) {
      const der = Buffer.from(certificate);
      // DER starts with SEQUENCE (0x30); anything else is taken for PEM.
      box.load(der[0] === 0x30 ? { cert: jk.Certificate.from_asn1(der) } : { certPem: der.toString() });
    }
  } catch (error) {
    throw new DstuSignError("wrong_password", `Cannot open the DSTU key file: ${error.message}`);
  }
  if (!Object.keys(box.keysById).length) {
    throw new DstuSignError("no_key", "The key file has no DSTU 4145 private key");
  }
  return box;
}

/** Signs `content` (Uint8Array): DER CMS SignedData with contentType, messageDigest (GOST 34.311),
 * signingTime and the signing certificate v2 attribute; `detached` leaves the content out. */
export async function signWithKeyFile({ key, password, certificate, content, detached }) {
  const box = loadKey({ key, password, certificate });
  let message;
  try {
    message = await box.sign(Buffer.from(content), null, null, {
      detached: Boolean(detached),
      tsp: false,
      time: Math.floor(Date.now() / 1000),
    });
  } catch (error) {
    throw new DstuSignError("no_certificate", `No certificate for the DSTU key: ${error.message}`);
  }
  return new Uint8Array(message.as_asn1());
}

/** The public key points of the keys in a key file, hex, for tests and diagnostics. */
export function publicKeys({ key, password }) {
  const box = loadKey({ key, password });
  return Object.values(box.keysById).map((priv) => priv.pub().point.toString());
}

/** True for a Java KeyStore (magic FEEDFEED). */
export function isJks(bytes) {
  return bytes.length > 4 && bytes[0] === 0xfe && bytes[1] === 0xed && bytes[2] === 0xfe && bytes[3] === 0xed;
}
