/* Safety plan editor: "Add another" adds an empty name/phone row to steps 3-5 on the page, so a
   counselor on a call need not save and reopen for more rows. Without script the button stays
   hidden and the two spare rows the server renders are the fallback. No dependencies.
   In the note's plan panel (loaded by htmx) the same rows work, and the focus follows the panel:
   into its first field when the editor opens, onto the saved message (or the button) after. */
(function () {
  "use strict";

  function renumber(row, n) {
    row.querySelectorAll("input, label").forEach(function (el) {
      var attr = el.tagName === "LABEL" ? "for" : "id";
      var value = el.getAttribute(attr);
      if (value) el.setAttribute(attr, value.replace(/-\d+$/, "-" + n));
      if (el.tagName === "LABEL") el.textContent = el.textContent.replace(/\d+$/, String(n));
      else el.value = "";
    });
  }

  function init(fieldset) {
    var button = fieldset.querySelector("[data-plan-add]");
    if (!button || fieldset.dataset.planReady) return;
    fieldset.dataset.planReady = "1";
    var max = parseInt(fieldset.dataset.planMax || "0", 10);

    function rows() { return fieldset.querySelectorAll("[data-plan-row]"); }
    function refresh() { button.hidden = max > 0 && rows().length >= max; }

    button.addEventListener("click", function () {
      var all = rows(), last = all[all.length - 1];
      var row = last.cloneNode(true);
      renumber(row, all.length + 1);
      last.after(row);
      row.querySelector("input").focus();
      refresh();
    });
    refresh();
  }

  function initAll() { document.querySelectorAll("[data-plan-rows]").forEach(init); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", initAll);
  else initAll();

  document.addEventListener("htmx:load", function (event) {
    var panel = event.target;
    if (!panel || panel.id !== "safety-plan-body") return;
    panel.querySelectorAll("[data-plan-rows]").forEach(init);
    var target = panel.querySelector(".is-invalid, textarea, input:not([type=hidden])") ||
      panel.querySelector("[data-plan-status]") || panel.querySelector("[data-testid=safety-plan-edit]");
    if (target) target.focus();
  });
})();
