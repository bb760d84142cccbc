// KVED filter: a search box above every <select multiple data-kved-filter> that hides the options not
// matching the typed code or words. Chosen options always stay visible. Without JS the select works alone.
(function () {
  "use strict";

  function normalise(text) {
    return text.toLowerCase().replace(/[’ʼ`]/g, "'").replace(/\s+/g, " ").trim();
  }

  function enhance(select) {
    var label = document.querySelector('label[for="' + select.id + '"]');
    var input = document.createElement("input");
    input.type = "search";
    input.id = select.id + "_filter";
    input.className = "kved-filter-input";
    input.setAttribute("autocomplete", "off");
    input.setAttribute("aria-controls", select.id);
    var filterLabel = document.createElement("label");
    filterLabel.htmlFor = input.id;
    filterLabel.className = "kved-filter-label";
    filterLabel.textContent = select.dataset.filterLabel || "Пошук за кодом або назвою";
    var count = document.createElement("p");
    count.className = "hint kved-filter-count";
    count.setAttribute("aria-live", "polite");

    function chosen() {
      var codes = [];
      for (var i = 0; i < select.options.length; i += 1) {
        if (select.options[i].selected) codes.push(select.options[i].value);
      }
      count.textContent = (select.dataset.chosenLabel || "Вибрано:") + " " + (codes.length ? codes.join(", ") : "—");
    }

    function filter() {
      var query = normalise(input.value);
      for (var i = 0; i < select.options.length; i += 1) {
        var option = select.options[i];
        option.hidden = Boolean(query) && !option.selected && normalise(option.textContent).indexOf(query) === -1;
      }
    }

    // Typing Enter in the filter must not submit the wizard's step.
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") event.preventDefault();
    });
    input.addEventListener("input", filter);
    select.addEventListener("change", chosen);
    select.parentNode.insertBefore(filterLabel, select);
    select.parentNode.insertBefore(input, select);
    select.parentNode.insertBefore(count, select.nextSibling);
    if (label) label.classList.add("kved-select-label");
    chosen();
  }

  function init() {
    var selects = document.querySelectorAll("select[multiple][data-kved-filter]");
    for (var i = 0; i < selects.length; i += 1) enhance(selects[i]);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
