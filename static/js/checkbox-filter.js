// Checkbox-list filter: a search box above every checkbox list with [data-checkbox-filter]
// (registry.forms.CheckboxList, e.g. the KVED codes) that hides the items not matching the typed code or
// words, and a line naming the ticked ones. Ticked items always stay visible. Without JS the list works
// alone (it scrolls).
(function () {
  "use strict";

  function normalise(text) {
    return text.toLowerCase().replace(/[’ʼ`]/g, "'").replace(/\s+/g, " ").trim();
  }

  function enhance(list) {
    var data = list.dataset;
    var boxes = list.querySelectorAll("input[type=checkbox]");
    var input = document.createElement("input");
    input.type = "search";
    input.id = list.id + "_filter";
    input.className = "checkbox-filter-input";
    input.setAttribute("autocomplete", "off");
    input.setAttribute("aria-controls", list.id);
    var filterLabel = document.createElement("label");
    filterLabel.htmlFor = input.id;
    filterLabel.className = "checkbox-filter-label";
    filterLabel.textContent = data.filterLabel || "Пошук за кодом або назвою";
    var chosen = document.createElement("p");
    chosen.className = "hint checkbox-filter-chosen";
    chosen.setAttribute("aria-live", "polite");

    function showChosen() {
      var codes = [];
      for (var i = 0; i < boxes.length; i += 1) {
        if (boxes[i].checked) codes.push(boxes[i].value);
      }
      chosen.textContent = (data.chosenLabel || "Вибрано:") + " " + (codes.length ? codes.join(", ") : "—");
    }

    function filter() {
      var query = normalise(input.value);
      for (var i = 0; i < boxes.length; i += 1) {
        var item = boxes[i].closest(".checkbox-list-item") || boxes[i].parentNode;
        item.hidden = Boolean(query) && !boxes[i].checked && normalise(item.textContent).indexOf(query) === -1;
      }
    }

    // Typing Enter in the filter must not submit the wizard's step.
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") event.preventDefault();
    });
    input.addEventListener("input", filter);
    list.addEventListener("change", showChosen);
    list.parentNode.insertBefore(filterLabel, list);
    list.parentNode.insertBefore(input, list);
    list.parentNode.insertBefore(chosen, list.nextSibling);
    showChosen();
  }

  function init() {
    var lists = document.querySelectorAll("[data-checkbox-filter]");
    for (var i = 0; i < lists.length; i += 1) enhance(lists[i]);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
