// The rules pages: drag-to-reorder (SortableJS; the form around the list posts on Sortable's
// "end" event through hx-trigger), condition rows that come and go, and focus kept where the
// person was after a fragment is swapped. Everything here is an enhancement: the pages work as
// plain forms without it. No inline scripts or eval (the Content-Security-Policy forbids them).
(function () {
  "use strict";
  // Hides the "Update fields" button, which only the no-JavaScript form needs.
  document.documentElement.classList.add("rules-js");
  // While settling a swap htmx copies the old element's `style` attribute onto its replacement
  // with setAttribute, and SortableJS leaves inline styles (transform, transition) on the rules it
  // animated. The Content-Security-Policy (style-src without 'unsafe-inline') refuses style
  // attributes, so each copy was a blocked, logged violation. Settling only classes keeps the CSP
  // as strict as it is: Sortable itself writes through element.style (CSSOM), which CSP allows.
  htmx.config.attributesToSettle = htmx.config.attributesToSettle.filter(function (name) {
    return name !== "style";
  });

  function all(root, selector) {
    var found = [];
    if (root.matches && root.matches(selector)) { found.push(root); }
    if (root.querySelectorAll) { found = found.concat(Array.prototype.slice.call(root.querySelectorAll(selector))); }
    return found;
  }

  htmx.onLoad(function (root) {
    all(root, "[data-sortable]").forEach(function (list) {
      if (list.getAttribute("data-sortable-ready") || typeof Sortable === "undefined") { return; }
      list.setAttribute("data-sortable-ready", "1");
      Sortable.create(list, {
        draggable: ".rule-item",
        handle: ".drag-handle",
        animation: 150,
        ghostClass: "rule-ghost",
        // On touch screens a short hold starts a drag, so a swipe still scrolls the page.
        delay: 150,
        delayOnTouchOnly: true
      });
    });
    renumber();
  });

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("#conditions .condition-row"));
  }

  // Condition numbers follow the rows on the page; the add button stops at the limit.
  function renumber() {
    rows().forEach(function (row, index) {
      all(row, ".cond-n").forEach(function (span) { span.textContent = String(index + 1); });
    });
    var add = document.getElementById("add-condition");
    if (add) { add.disabled = rows().length >= Number(add.getAttribute("data-max") || 20); }
  }

  // Tell the server which number a requested row will carry.
  document.addEventListener("htmx:configRequest", function (event) {
    var elt = event.detail.elt;
    if (elt.id === "add-condition") {
      event.detail.parameters.n = rows().length + 1;
      return;
    }
    var row = elt.closest && elt.closest(".condition-row");
    if (row) { event.detail.parameters.n = rows().indexOf(row) + 1; }
  });

  // Remove a row in place (without JavaScript the button posts and the server drops it).
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-remove-row]");
    if (!button) { return; }
    event.preventDefault();
    var row = button.closest(".condition-row");
    if (row) { row.remove(); }
    renumber();
    var add = document.getElementById("add-condition");
    if (add) { add.focus(); }
  });

  // Keep the keyboard where it was: the same control after a swap, the other move button when
  // a rule reached the top or bottom, the new row's first select after "Add condition".
  // Remembered per request (on its XMLHttpRequest): a second request may start before the
  // first one's swap has settled.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var active = document.activeElement;
    event.detail.xhr.rulesFocus = active && active.id ? active.id : (event.detail.elt.id || null);
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    renumber();
    var xhr = event.detail.xhr;
    var wanted = xhr && xhr.rulesFocus;
    if (!wanted) { return; }
    xhr.rulesFocus = null;  // once per request (an out-of-band swap settles too)
    var target = null;
    if (wanted === "add-condition") {
      var list = rows();
      target = list.length ? list[list.length - 1].querySelector("select") : null;
    } else {
      target = document.getElementById(wanted);
      if (target && target.disabled) {
        var match = /^(up|down)-(\d+)$/.exec(wanted);
        if (match) { target = document.getElementById((match[1] === "up" ? "down-" : "up-") + match[2]); }
      }
    }
    if (target && target !== document.activeElement && !target.disabled) { target.focus(); }
  });
})();
