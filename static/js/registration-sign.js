// Registration review step: sign the shown document in the browser with the head's PKCS#12 key file.
//
//   <div data-browser-sign data-document="<base64 of the exact bytes to sign>"
//        data-signature-input="<id of the hidden base64 field>" data-upload-input="<id of the .p7s input>"
//        data-msg-…="translated messages" hidden> … #key-file, #key-password, [data-sign-button],
//        [data-sign-status] … </div>
//
// The key file and the password inputs have no name, so the form never sends them; only the CMS
// signature (base64 DER, made by window.EhealthSign) goes into the hidden field.
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

  function decodeBase64(text) {
    var binary = atob(text);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
    return bytes;
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

    function show(text, state) {
      status.textContent = text;
      status.dataset.state = state;
    }

    if (signatureInput.value) show(data.msgSigned, "signed");

    async function sign() {
      var file = fileInput.files && fileInput.files[0];
      if (!file) return show(data.msgNoFile, "error");
      if (!passwordInput.value) return show(data.msgNoPassword, "error");
      button.disabled = true;
      show(data.msgSigning, "busy");
      try {
        var der = await window.EhealthSign.signWithPkcs12({
          p12: new Uint8Array(await file.arrayBuffer()),
          password: passwordInput.value,
          content: decodeBase64(data.document),
          detached: false,
        });
        signatureInput.value = window.EhealthSign.base64(der);
        passwordInput.value = "";
        if (uploadInput) uploadInput.value = ""; // one signature only
        show(data.msgSigned, "signed");
      } catch (error) {
        signatureInput.value = "";
        var key = MESSAGE_BY_CODE[error && error.code];
        show(key ? data[key] : data.msgFailed + " " + (error && error.message ? error.message : error), "error");
        if (error && error.code === "wrong_password") passwordInput.focus();
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
