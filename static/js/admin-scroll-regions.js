// Admin tables that scroll sideways on a phone (Django's tabular inlines, wide change lists) can be
// reached and scrolled with the keyboard (WCAG 2.1.1; axe: scrollable-region-focusable).
(function () {
  "use strict";

  function mark() {
    document.querySelectorAll(".inline-group, .results").forEach(function (region) {
      var scrolls = region.scrollWidth > region.clientWidth + 1;
      if (scrolls && !region.hasAttribute("tabindex")) {
        region.setAttribute("tabindex", "0");
      } else if (!scrolls && region.getAttribute("tabindex") === "0") {
        region.removeAttribute("tabindex");
      }
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mark);
  else mark();
  window.addEventListener("resize", mark);
})();
