// The packing slip's Print button: shown only where it works (with JavaScript); without it the
// page says to use the browser's own Print command.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () { window.print(); });
    });
    document.querySelectorAll(".print-hint").forEach(function (hint) { hint.hidden = true; });
  });
})();
