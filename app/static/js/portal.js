// The shopper's portal: a link of the error summary moves the focus to its field (a plain
// fragment link only scrolls there), so a keyboard or screen-reader user lands where to act.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest(".error-summary a[href^='#']");
    if (!link) { return; }
    var target = document.getElementById(link.getAttribute("href").slice(1));
    if (target) {
      target.focus();
      target.scrollIntoView({block: "center"});
    }
  });
})();
