// Error summaries ([data-error-summary] with tabindex="-1": templates/django/forms/error_summary.html and
// the pages that write their own). After a failed submission the focus moves to the summary, so a screen
// reader reads it first and a phone scrolls to it; a link in it moves the focus to the field it names
// (the first input of a group of radios or checkboxes), with the field's label in view.
(function () {
  "use strict";

  function inputOf(target) {
    if (target.matches("input, select, textarea, button")) return target;
    return target.querySelector("input:not([type=hidden]), select, textarea");
  }

  function init() {
    var summary = document.querySelector("[data-error-summary]");
    if (!summary) return;
    summary.focus();
    summary.addEventListener("click", function (event) {
      var link = event.target.closest("a[href^='#']");
      if (!link) return;
      var target = document.getElementById(decodeURIComponent(link.getAttribute("href").slice(1)));
      var input = target && inputOf(target);
      if (!input) return;
      event.preventDefault();
      (input.closest(".field") || input).scrollIntoView({ block: "start" });
      input.focus({ preventScroll: true });
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
