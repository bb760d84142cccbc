// Fields required only for some values of another field (registry.forms.StepForm.required_unless):
//   <div data-required-unless="<id of the controlling select>" data-required-unless-values="A B"> … a label
//   with <span data-condition-marker>(required unless “…”)</span> … </div>
// For the listed values the field is not needed and is hidden; for any other value it is required: the
// marker goes (like every required field's) and the input is marked aria-required. With no value chosen,
// or without JS, the field shows with its marker, and the server checks the rule either way.
(function () {
  "use strict";

  function setup(wrapper) {
    var controller = document.getElementById(wrapper.dataset.requiredUnless);
    if (!controller) return;
    var except = wrapper.dataset.requiredUnlessValues.split(" ");
    var marker = wrapper.querySelector("[data-condition-marker]");
    var input = wrapper.querySelector("input, select, textarea");

    function update() {
      var value = controller.value;
      var notNeeded = except.indexOf(value) !== -1;
      var required = Boolean(value) && !notNeeded;
      wrapper.hidden = notNeeded;
      if (marker) marker.hidden = required;
      if (input) {
        if (required) input.setAttribute("aria-required", "true");
        else input.removeAttribute("aria-required");
      }
    }

    controller.addEventListener("change", update);
    update();
  }

  function init() {
    var wrappers = document.querySelectorAll("[data-required-unless]");
    for (var i = 0; i < wrappers.length; i += 1) setup(wrappers[i]);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
