// The header's menu button on narrow screens (base.html). Loaded in <head> without `defer`: the class set
// here lets the stylesheet fold the menu before the header is first drawn. Without this script (or
// on wide screens) the links are simply shown; the stylesheet hides the folded menu by the button's
// aria-expanded, so that attribute is the only state.
(function () {
  "use strict";
  document.documentElement.classList.add("js-nav-menu");

  function setUp() {
    var button = document.querySelector(".nav-toggle[aria-controls]");
    var menu = button && document.getElementById(button.getAttribute("aria-controls"));
    if (!menu) return;

    function isOpen() {
      return button.getAttribute("aria-expanded") === "true";
    }
    function setOpen(open) {
      button.setAttribute("aria-expanded", open ? "true" : "false");
    }

    button.addEventListener("click", function () {
      setOpen(!isOpen());
    });
    // Escape in the open menu closes it and gives the focus back to its button (when the button is shown).
    document.addEventListener("keydown", function (event) {
      var inMenu = menu.contains(document.activeElement) || document.activeElement === button;
      if (event.key !== "Escape" || !isOpen() || !inMenu || button.offsetParent === null) return;
      setOpen(false);
      button.focus();
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
