// The returns list: "select all on this page" and the selection count. (Refusals that come back
// as fragments, a confirmation that changed meanwhile with 409 or an empty selection with 422, are
// shown by the htmx-config in base.html.)
(function () {
  "use strict";
  function boxes() {
    return Array.prototype.slice.call(document.querySelectorAll('input[name="return_id"][form="bulk-form"]'));
  }
  function refresh() {
    var all = document.querySelector("[data-select-all]");
    var ticked = boxes().filter(function (box) { return box.checked; }).length;
    var count = document.getElementById("selected-count");
    if (count) { count.textContent = ticked ? ticked + " selected" : ""; }
    if (all) {
      all.checked = ticked > 0 && ticked === boxes().length;
      all.indeterminate = ticked > 0 && ticked < boxes().length;
    }
  }
  document.addEventListener("DOMContentLoaded", function () {
    var all = document.querySelector("[data-select-all]");
    if (all) { all.closest("label").hidden = false; }
    refresh();
  });
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches && target.matches("[data-select-all]")) {
      boxes().forEach(function (box) { box.checked = target.checked; });
    }
    if (target.matches && (target.matches("[data-select-all]") || target.name === "return_id")) { refresh(); }
  });
  document.addEventListener("htmx:afterSwap", refresh);
})();
