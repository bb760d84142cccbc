// The API's method reference (Swagger UI) with the accessible names its React components leave out
// and keyboard access (WCAG 2.1 1.3.1, 2.1.1, 2.5.3, 4.1.2): icon-only buttons, form fields whose label
// is a table cell, a button whose name hides its visible text, and scrolling examples. Swagger UI is English, and so are these names.
// Runs after Swagger UI has started; it redraws parts of the page at any time, so every change is
// looked at again.
(function () {
  "use strict";

  var root = document.getElementById("swagger-ui");
  if (!root) {
    return;
  }

  function name(element, text) {
    if (!element.hasAttribute("aria-label") && !element.hasAttribute("aria-labelledby")) {
      element.setAttribute("aria-label", text);
    }
  }

  function fix() {
    root.querySelectorAll(".close-modal").forEach(function (button) {
      name(button, "Close");
    });
    // "Authorize" read out as "Apply credentials": a speech user saying what they see is not understood.
    root.querySelectorAll("button[aria-label='Apply credentials']").forEach(function (button) {
      button.removeAttribute("aria-label");
    });
    root.querySelectorAll("tr[data-param-name]").forEach(function (row) {
      var parameter = row.getAttribute("data-param-name");
      row.querySelectorAll(".parameters-col_description select, .parameters-col_description input").forEach(
        function (field) {
          name(field, parameter);
        }
      );
    });
    root.querySelectorAll("textarea.body-param__text").forEach(function (field) {
      name(field, "Request body");
    });
    // A binary request body (a patient's scan) is a bare file input.
    root.querySelectorAll(".opblock-body input[type=file]").forEach(function (field) {
      name(field, "Request body file");
    });
    // Examples and answers scroll within a fixed height: the keyboard must reach them to scroll.
    root.querySelectorAll(".highlight-code > .microlight:not([tabindex])").forEach(function (block) {
      block.setAttribute("tabindex", "0");
    });
  }

  var pending = false;
  new MutationObserver(function () {
    if (!pending) {
      pending = true;
      window.requestAnimationFrame(function () {
        pending = false;
        fix();
      });
    }
  }).observe(root, { childList: true, subtree: true });
  fix();
})();
