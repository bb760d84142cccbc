// The printable declaration form (templates/declarations/requests/form.html): the "Print" button opens
// the browser's print dialog. Without JavaScript the button stays hidden and the browser's own print works.
(function () {
  "use strict";
  function init() {
    var buttons = document.querySelectorAll("[data-print]");
    for (var i = 0; i < buttons.length; i += 1) {
      buttons[i].hidden = false;
      buttons[i].addEventListener("click", function () {
        window.print();
      });
    }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
