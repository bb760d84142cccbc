// EhealthSign: a CMS SignedData made in the browser from a PKCS#12 key file.
//
// The key file and its password are used only here, in memory: this module makes no network calls.
// Bundled by static/js/src/build.mjs into static/vendor/pkijs/ehealth-sign.js (window.EhealthSign).
import * as asn1js from "asn1js";
import * as pkijs from "pkijs";

const OID = {
  data: "1.2.840.113549.1.7.1",
  contentType: "1.2.840.113549.1.9.3",
  messageDigest: "1.2.840.113549.1.9.4",
  signingTime: "1.2.840.113549.1.9.5",
  rsa: "1.2.840.113549.1.1.1",
  ec: "1.2.840.10045.2.1",
  p256: "1.2.840.10045.3.1.7",
  p384: "1.3.132.0.34",
  shroudedKeyBag: "1.2.840.113549.1.12.10.1.2",
  keyBag: "1.2.840.113549.1.12.10.1.1",
  certBag: "1.2.840.113549.1.12.10.1.3",
  basicConstraints: "2.5.29.19",
  subjectDirectoryAttributes: "2.5.29.9",
  sdaDrfo: "1.2.804.2.1.1.1.11.1.4.1.1",
  sdaEdrpou: "1.2.804.2.1.1.1.11.1.4.2.1",
  surname: "2.5.4.4",
  givenName: "2.5.4.42",
  commonName: "2.5.4.3",
  serialNumber: "2.5.4.5",
  organizationIdentifier: "2.5.4.97",
};

// The signature algorithms the portal's verifier accepts, by key type.
const EC_CURVES = {
  [OID.p256]: { namedCurve: "P-256", hash: "SHA-256" },
  [OID.p384]: { namedCurve: "P-384", hash: "SHA-384" },
};

/** An Error with a stable `code` the page translates: not_pkcs12, wrong_password,
 * unsupported_encryption, no_key, no_certificate, unsupported_key. */
export class SignError extends Error {
  constructor(code, message) {
    super(message);
    this.name = "SignError";
    this.code = code;
  }
}

function engine() {
  const webCrypto = globalThis.crypto;
  if (!webCrypto || !webCrypto.subtle) {
    // WebCrypto exists only in secure contexts (https or localhost).
    throw new SignError("no_webcrypto", "WebCrypto is not available: open the page over https");
  }
  const cryptoEngine = new pkijs.CryptoEngine({ name: "ehealth", crypto: webCrypto });
  pkijs.setEngine("ehealth", cryptoEngine);
  return cryptoEngine;
}

function bytesEqual(a, b) {
  return a.length === b.length && a.every((value, index) => value === b[index]);
}

function toBytes(value, name) {
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  throw new TypeError(`${name}: ArrayBuffer or Uint8Array expected`);
}

function pfxParse(bytes) {
  const asn1 = asn1js.fromBER(bytes);
  if (asn1.offset === -1) throw new SignError("not_pkcs12", "the file is not DER-encoded");
  try {
    return new pkijs.PFX({ schema: asn1.result });
  } catch (error) {
    throw new SignError("not_pkcs12", `the file is not a PKCS#12 key file: ${error.message}`);
  }
}

// The MAC is the password check: a wrong password fails here before any decryption is attempted.
async function macVerify(pfx, password, cryptoEngine) {
  if (!pfx.macData) return false;
  let valid;
  try {
    valid = await cryptoEngine.verifyDataStampedWithPassword({
      password,
      hashAlgorithm: cryptoEngine.getAlgorithmByOID(pfx.macData.mac.digestAlgorithm.algorithmId, true).name,
      salt: pfx.macData.macSalt.valueBlock.valueHexView,
      iterationCount: pfx.macData.iterations || 1,
      contentToVerify: pfx.authSafe.content.getValue(),
      signatureToVerify: pfx.macData.mac.digest.valueBlock.valueHexView,
    });
  } catch (error) {
    throw new SignError("unsupported_encryption", `unsupported PKCS#12 integrity check: ${error.message}`);
  }
  if (!valid) throw new SignError("wrong_password", "wrong password for this key file");
  return true;
}

// Decryption of the bags; PKI.js implements PBES2 only (not the legacy 3DES/RC2 of old exports).
async function decrypt(step, macChecked) {
  try {
    return await step();
  } catch (error) {
    // PKI.js names the algorithm it does not know; WebCrypto's failed decryption is an OperationError.
    if (error.name !== "OperationError" && /algorithm/i.test(error.message)) {
      throw new SignError("unsupported_encryption", `unsupported key file encryption: ${error.message}`);
    }
    // Without a MAC a wrong password shows only as a failed decryption.
    throw macChecked
      ? new SignError("not_pkcs12", `damaged key file: ${error.message}`)
      : new SignError("wrong_password", "wrong password for this key file");
  }
}

/** The private key and certificates inside a PKCS#12 file. */
async function pkcs12Open(bytes, passwordText, cryptoEngine) {
  const password = new TextEncoder().encode(passwordText).buffer;
  const pfx = pfxParse(bytes);
  try {
    await pfx.parseInternalValues({ password, checkIntegrity: false }, cryptoEngine);
  } catch (error) {
    throw new SignError("not_pkcs12", `the file is not a PKCS#12 key file: ${error.message}`);
  }
  const macChecked = await macVerify(pfx, password, cryptoEngine);
  const safe = pfx.parsedValue.authenticatedSafe;
  await decrypt(
    () =>
      safe.parseInternalValues(
        { safeContents: safe.safeContents.map(() => ({ password })) },
        cryptoEngine,
      ),
    macChecked,
  );
  const keys = [];
  const certificates = [];
  for (const contents of safe.parsedValue.safeContents) {
    for (const bag of contents.value.safeBags) {
      if (bag.bagId === OID.shroudedKeyBag) {
        await decrypt(() => bag.bagValue.parseInternalValues({ password }, cryptoEngine), macChecked);
        keys.push(bag.bagValue.parsedValue);
      } else if (bag.bagId === OID.keyBag) {
        keys.push(bag.bagValue);
      } else if (bag.bagId === OID.certBag && bag.bagValue.parsedValue instanceof pkijs.Certificate) {
        certificates.push(bag.bagValue.parsedValue);
      }
    }
  }
  if (keys.length === 0) throw new SignError("no_key", "the key file holds no private key");
  return { keyInfo: keys[0], certificates };
}

function publicKeyOfPrivate(keyInfo) {
  const key = keyInfo.parsedKey;
  if (key instanceof pkijs.RSAPrivateKey) return key.modulus.valueBlock.valueHexView;
  if (key instanceof pkijs.ECPrivateKey && key.publicKey && key.publicKey.x.byteLength) {
    return new Uint8Array(key.publicKey.toSchema().toBER());
  }
  return null;
}

function publicKeyOfCertificate(certificate) {
  const info = certificate.subjectPublicKeyInfo;
  if (info.algorithm.algorithmId === OID.rsa) return info.parsedKey.modulus.valueBlock.valueHexView;
  return info.subjectPublicKey.valueBlock.valueHexView;
}

function isCa(certificate) {
  const extension = (certificate.extensions || []).find((item) => item.extnID === OID.basicConstraints);
  return Boolean(extension && extension.parsedValue && extension.parsedValue.cA);
}

/** The certificate of the private key; the others (its CAs) travel along in the signature. */
function signerCertificate(keyInfo, certificates) {
  const publicKey = publicKeyOfPrivate(keyInfo);
  const matching = publicKey
    ? certificates.filter((cert) => bytesEqual(publicKeyOfCertificate(cert), publicKey))
    : certificates.filter((cert) => !isCa(cert)); // an EC key stored without its public point
  if (matching.length !== 1) {
    throw new SignError("no_certificate", "the key file holds no certificate for its private key");
  }
  return matching[0];
}

function asn1Text(value) {
  const text = value && value.valueBlock && value.valueBlock.value;
  return typeof text === "string" ? text.trim() : null;
}

// The first string value of each subjectDirectoryAttributes attribute, by OID (Ukrainian CAs put the
// DRFO and EDRPOU there).
function directoryAttributes(certificate) {
  const found = {};
  const extension = (certificate.extensions || []).find(
    (item) => item.extnID === OID.subjectDirectoryAttributes,
  );
  if (!extension) return found;
  const asn1 = asn1js.fromBER(extension.extnValue.valueBlock.valueHexView);
  if (asn1.offset === -1) return found;
  for (const attribute of asn1.result.valueBlock.value || []) {
    const [type, values] = (attribute.valueBlock && attribute.valueBlock.value) || [];
    if (!(type instanceof asn1js.ObjectIdentifier) || !values || !values.valueBlock) continue;
    const oid = type.valueBlock.toString();
    const text = asn1Text((values.valueBlock.value || [])[0]);
    if (text && !(oid in found)) found[oid] = text;
  }
  return found;
}

function prefixed(prefix, value) {
  return value && value.startsWith(prefix) ? value.slice(prefix.length) : null;
}

/** Who a certificate names, read as the portal's verifier reads it
 * (ehealth_portal/signatures/certificates.py): {drfo, edrpou, surname, givenNames, commonName}. */
export function certificateIdentity(certificate) {
  const names = {};
  for (const item of certificate.subject.typesAndValues) {
    if (!(item.type in names)) names[item.type] = asn1Text(item.value);
  }
  const directory = directoryAttributes(certificate);
  return {
    drfo: directory[OID.sdaDrfo] || prefixed("TINUA-", names[OID.serialNumber]),
    edrpou: directory[OID.sdaEdrpou] || prefixed("NTRUA-", names[OID.organizationIdentifier]),
    surname: names[OID.surname] || null,
    givenNames: names[OID.givenName] || null,
    commonName: names[OID.commonName] || null,
  };
}

function signatureAlgorithm(keyInfo) {
  const algorithm = keyInfo.privateKeyAlgorithm;
  if (algorithm.algorithmId === OID.rsa) {
    return { import: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, hash: "SHA-256" };
  }
  if (algorithm.algorithmId === OID.ec && algorithm.algorithmParams instanceof asn1js.ObjectIdentifier) {
    const curve = EC_CURVES[algorithm.algorithmParams.valueBlock.toString()];
    if (curve) return { import: { name: "ECDSA", namedCurve: curve.namedCurve }, hash: curve.hash };
  }
  throw new SignError("unsupported_key", "only RSA and ECDSA P-256/P-384 keys are supported");
}

function attribute(type, value) {
  return new pkijs.Attribute({ type, values: [value] });
}

// DER orders a SET OF by the encodings of its elements; PKI.js writes them in the given order.
function derSorted(items) {
  const encoded = items.map((item) => ({ item, der: new Uint8Array(item.toSchema().toBER()) }));
  encoded.sort((a, b) => {
    for (let i = 0; i < Math.min(a.der.length, b.der.length); i += 1) {
      if (a.der[i] !== b.der[i]) return a.der[i] - b.der[i];
    }
    return a.der.length - b.der.length;
  });
  return encoded.map(({ item }) => item);
}

/**
 * Sign `content` with the key in a PKCS#12 file; returns a DER CMS SignedData (Uint8Array).
 * Signed attributes: contentType, messageDigest, signingTime. Content attached unless `detached`.
 * `checkSigner(identity)`, if given, sees the key's certificate (`certificateIdentity`) before anything is
 * signed; what it throws stops the signing (a page refusing someone else's key file).
 * Throws SignError (with `code`) for a bad file, a wrong password or an unsupported key.
 */
export async function signWithPkcs12({ p12, password, content, detached = false, checkSigner = null }) {
  const data = toBytes(content, "content");
  if (typeof password !== "string") throw new TypeError("password: string expected");
  const cryptoEngine = engine();
  const { keyInfo, certificates } = await pkcs12Open(toBytes(p12, "p12"), password, cryptoEngine);
  const algorithm = signatureAlgorithm(keyInfo);
  const signer = signerCertificate(keyInfo, certificates);
  if (checkSigner) await checkSigner(certificateIdentity(signer));
  let privateKey;
  try {
    // Not extractable: the page's scripts can sign with it but never read it.
    const pkcs8 = keyInfo.toSchema().toBER();
    privateKey = await globalThis.crypto.subtle.importKey("pkcs8", pkcs8, algorithm.import, false, ["sign"]);
  } catch (error) {
    throw new SignError("unsupported_key", `the browser cannot use this key: ${error.message}`);
  }
  const digest = await globalThis.crypto.subtle.digest(algorithm.hash, data);
  const signedData = new pkijs.SignedData({
    version: 1,
    encapContentInfo: new pkijs.EncapsulatedContentInfo({ eContentType: OID.data }),
    signerInfos: [
      new pkijs.SignerInfo({
        version: 1,
        sid: new pkijs.IssuerAndSerialNumber({ issuer: signer.issuer, serialNumber: signer.serialNumber }),
        signedAttrs: new pkijs.SignedAndUnsignedAttributes({
          type: 0,
          attributes: derSorted([
            attribute(OID.contentType, new asn1js.ObjectIdentifier({ value: OID.data })),
            attribute(OID.messageDigest, new asn1js.OctetString({ valueHex: digest })),
            attribute(OID.signingTime, new asn1js.UTCTime({ valueDate: new Date() })),
          ]),
        }),
      }),
    ],
    certificates: derSorted(certificates),
  });
  if (!detached) {
    // Set after construction: the constructor would split it into a BER constructed OCTET STRING.
    signedData.encapContentInfo.eContent = new asn1js.OctetString({ valueHex: data });
  }
  // PKI.js signs the DER of the signed attributes and turns WebCrypto's raw ECDSA r||s into DER.
  await signedData.sign(privateKey, 0, algorithm.hash, data, cryptoEngine);
  const contentInfo = new pkijs.ContentInfo({
    contentType: pkijs.ContentInfo.SIGNED_DATA,
    content: signedData.toSchema(true),
  });
  return new Uint8Array(contentInfo.toSchema().toBER());
}

/** Standard base64 of bytes (for a form field). */
export function base64(bytes) {
  const view = toBytes(bytes, "bytes");
  let binary = "";
  for (let i = 0; i < view.length; i += 0x8000) {
    binary += String.fromCharCode.apply(null, view.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}
