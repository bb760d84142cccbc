// Sign the shown document in the browser with a PKCS#12 key file (the clinic registration's review, the
// CNAP joining application).
//
//   <div data-browser-sign data-document="<base64 of the exact bytes to sign>"
//        data-signature-input="<id of the hidden base64 field>" data-upload-input="<id of the .p7s input>"
//        data-expected-drfo="…" data-expected-edrpou="…" data-expected-surname="…"
//        data-expected-given-names="…" data-expected-full-name="…"   (optional: who must sign;
//        data-expected-edrpou-strict: a certificate must name that organisation)
//        data-msg-…="translated messages" hidden> … #key-file, #key-password, [data-sign-button],
//        [data-sign-status] … </div>
//
// The key file and the password inputs have no name, so the form never sends them; only the CMS
// signature (base64 DER, made by window.EhealthSign) goes into the hidden field. When the page names who
// must sign, a key whose certificate names someone else is refused before anything is signed, by the
// rules the portal applies on submission (registry.services.registration._signer_reasons): the RNOKPP,
// the organisation's EDRPOU when both have one, and the names.
//
// Ukrainian DSTU 4145 key files (Key-6.dat, .jks, or a .pfx/.p12 that PKI.js cannot open) are signed
// with window.EhealthDstu (static/vendor/jkurwa/ehealth-dstu.js, jkurwa; loaded on first use from beside
// ehealth-sign.js unless the page already has it). Their certificate usually comes in a separate file:
// the key input then takes several files, and .cer/.crt/.pem ones are read as the certificate. Their
// signer check runs in the portal on submission.
(function () {
  "use strict";

  var MESSAGE_BY_CODE = {
    wrong_password: "msgWrongPassword",
    not_pkcs12: "msgNotPkcs12",
    unsupported_encryption: "msgUnsupported",
    unsupported_key: "msgUnsupported",
    no_key: "msgNotPkcs12",
    no_certificate: "msgNotPkcs12",
    no_webcrypto: "msgNoWebcrypto",
  };

  var DSTU_KEY_FILE = /\.(dat|jks|zs2|pk8|key)$/i;
  var CERTIFICATE_FILE = /\.(cer|crt|pem|der)$/i;

  // The DSTU bundle, from the page or from beside ehealth-sign.js (same origin, so the CSP allows it).
  function dstuBundle() {
    if (window.EhealthDstu) return Promise.resolve(window.EhealthDstu);
    var own = document.querySelector('script[src*="vendor/pkijs/ehealth-sign"]');
    if (!own) return Promise.reject(new Error("DSTU signing is not available on this page"));
    var src = own
      .getAttribute("src")
      .replace("vendor/pkijs/ehealth-sign", "vendor/jkurwa/ehealth-dstu")
      .replace(/\.[0-9a-f]{12}\.js/, ".js"); // a hashed name belongs to the other file
    return new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = src;
      script.onload = function () {
        resolve(window.EhealthDstu);
      };
      script.onerror = function () {
        reject(new Error("DSTU signing could not be loaded"));
      };
      document.head.appendChild(script);
    });
  }

  function isJks(bytes) {
    return bytes.length > 4 && bytes[0] === 0xfe && bytes[1] === 0xed && bytes[2] === 0xfe && bytes[3] === 0xed;
  }

  // Splits the chosen files into the key file and an optional certificate file.
  async function chosenFiles(files) {
    var key = null;
    var certificate = null;
    for (var i = 0; i < files.length; i += 1) {
      if (CERTIFICATE_FILE.test(files[i].name) && files.length > 1) certificate = files[i];
      else if (!key) key = files[i];
    }
    return {
      key: key,
      keyBytes: key ? new Uint8Array(await key.arrayBuffer()) : null,
      certificate: certificate ? new Uint8Array(await certificate.arrayBuffer()) : null,
    };
  }

  async function signDstu(chosen, password, content) {
    var dstu = await dstuBundle();
    return dstu.signWithKeyFile({
      key: chosen.keyBytes,
      password: password,
      certificate: chosen.certificate,
      content: content,
      detached: false,
    });
  }

  // registry.edr_parsing.name_key: upper case, one apostrophe, one hyphen, single spaces.
  var NAME_VARIANTS = [
    [/[\u02bc\u2019\u2018`\u00b4\u02b9\u2032]/g, "'"],
    [/[\u2010\u2011\u2012\u2013\u2014\u2015\u2212]/g, "-"],
    [/[«»“”„‟″]/g, '"'],
    [/[\u00ad\u200b\u200c\u200d\u2060\ufeff]/g, ""],
  ];

  function nameKey(text) {
    var key = (text || "").normalize("NFC").toUpperCase();
    for (var i = 0; i < NAME_VARIANTS.length; i += 1) key = key.replace(NAME_VARIANTS[i][0], NAME_VARIANTS[i][1]);
    key = key.normalize("NFC").split(/\s+/).filter(Boolean).join(" ");
    return key.replace(/ ?- ?/g, "-");
  }

  function namesMatch(a, b) {
    var key = nameKey(a);
    return Boolean(key) && key === nameKey(b);
  }

  function decodeBase64(text) {
    var binary = atob(text);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
    return bytes;
  }

  function fill(template, signer, head) {
    return (template || "")
      .replace("{signer}", function () {
        return signer || "—";
      })
      .replace("{head}", function () {
        return head || "—";
      });
  }

  // Why the certificate's person is not the expected signer (a message), or "" when they are. Each rule
  // applies when the page gives its part: the RNOKPP (data-expected-drfo), the organisation
  // (data-expected-edrpou; a certificate without one passes unless data-expected-edrpou-strict), the names
  // (data-expected-surname and -given-names, or -full-name for a certificate with a common name only).
  function signerProblem(identity, data) {
    if (data.expectedDrfo) {
      var drfo = (identity.drfo || "").trim().toUpperCase();
      if (!drfo) return data.msgSignerNoDrfo;
      if (drfo !== data.expectedDrfo.toUpperCase()) return fill(data.msgSignerNotHead, drfo, data.expectedDrfo);
    }
    var edrpou = (identity.edrpou || "").trim();
    if (data.expectedEdrpou && (edrpou || "expectedEdrpouStrict" in data) && edrpou !== data.expectedEdrpou) {
      return fill(data.msgSignerEdrpou, edrpou, data.expectedEdrpou);
    }
    if (!data.expectedFullName) return "";
    if (identity.surname || identity.givenNames) {
      if (
        !namesMatch(identity.surname, data.expectedSurname) ||
        !namesMatch(identity.givenNames, data.expectedGivenNames)
      ) {
        var named = [identity.surname, identity.givenNames].filter(Boolean).join(" ");
        return fill(data.msgSignerName, named, data.expectedFullName);
      }
    } else if (!namesMatch(identity.commonName, data.expectedFullName)) {
      return fill(data.msgSignerName, identity.commonName, data.expectedFullName);
    }
    return "";
  }

  function setup(box) {
    var data = box.dataset;
    var fileInput = box.querySelector("#key-file");
    var passwordInput = box.querySelector("#key-password");
    var button = box.querySelector("[data-sign-button]");
    var status = box.querySelector("[data-sign-status]");
    var signatureInput = document.getElementById(data.signatureInput);
    var uploadInput = document.getElementById(data.uploadInput);
    if (!window.EhealthSign || !signatureInput) return;
    box.hidden = false;
    fileInput.multiple = true; // a DSTU key file and its certificate file

    function show(text, state) {
      status.textContent = text;
      status.dataset.state = state;
    }

    function checkSigner(identity) {
      var problem = signerProblem(identity, data);
      if (problem) {
        var error = new Error(problem);
        error.code = "signer_mismatch";
        throw error;
      }
    }

    if (signatureInput.value) show(data.msgSigned, "signed");

    async function sign() {
      var file = fileInput.files && fileInput.files[0];
      if (!file) return show(data.msgNoFile, "error");
      if (!passwordInput.value) return show(data.msgNoPassword, "error");
      button.disabled = true;
      signatureInput.value = "";
      show(data.msgSigning, "busy");
      try {
        var chosen = await chosenFiles(fileInput.files);
        var content = decodeBase64(data.document);
        var der;
        if (DSTU_KEY_FILE.test(chosen.key.name) || isJks(chosen.keyBytes)) {
          der = await signDstu(chosen, passwordInput.value, content);
        } else {
          try {
            der = await window.EhealthSign.signWithPkcs12({
              p12: chosen.keyBytes,
              password: passwordInput.value,
              content: content,
              detached: false,
              checkSigner: data.expectedDrfo || data.expectedEdrpou ? checkSigner : null,
            });
          } catch (pkcs12Error) {
            // A PKCS#12 holding a DSTU key: PKI.js cannot use it, jkurwa can.
            if (!pkcs12Error || pkcs12Error.code !== "unsupported_key") throw pkcs12Error;
            der = await signDstu(chosen, passwordInput.value, content);
          }
        }
        signatureInput.value = window.EhealthSign.base64(der);
        passwordInput.value = "";
        if (uploadInput) uploadInput.value = ""; // one signature only
        show(data.msgSigned, "signed");
      } catch (error) {
        signatureInput.value = "";
        var code = error && error.code;
        if (code === "signer_mismatch") {
          passwordInput.value = "";
          show(error.message, "error");
          fileInput.focus();
          return;
        }
        var key = MESSAGE_BY_CODE[code];
        show(key ? data[key] : data.msgFailed + " " + (error && error.message ? error.message : error), "error");
        if (code === "wrong_password") passwordInput.focus();
      } finally {
        button.disabled = false;
      }
    }

    button.addEventListener("click", sign);
    passwordInput.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        event.preventDefault(); // Enter signs here instead of submitting the form
        sign();
      }
    });
    if (uploadInput) {
      uploadInput.addEventListener("change", function () {
        if (uploadInput.value) {
          signatureInput.value = "";
          show("", "");
        }
      });
    }
  }

  function init() {
    var boxes = document.querySelectorAll("[data-browser-sign]");
    for (var i = 0; i < boxes.length; i += 1) setup(boxes[i]);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
