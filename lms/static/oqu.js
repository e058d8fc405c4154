// Oqu: small progressive enhancements. Every page works without this file.
(function () {
  "use strict";
  // Elements with data-poll-url refresh their content until the server says they are final.
  function poll(el) {
    var url = el.getAttribute("data-poll-url");
    var delay = 250;
    function tick() {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(function (html) {
          var box = document.createElement("div");
          box.innerHTML = html;
          var fresh = box.firstElementChild;
          if (!fresh) { return; }
          el.replaceWith(fresh);
          if (fresh.hasAttribute("data-poll-url")) {
            el = fresh;
            delay = Math.min(delay * 1.5, 2000);
            setTimeout(tick, delay);
          }
        })
        .catch(function () { setTimeout(tick, 2000); });
    }
    setTimeout(tick, delay);
  }
  document.querySelectorAll("[data-poll-url]").forEach(poll);
  // Signing out wipes the drafts this browser kept for the workspace (school computers are
  // shared); the server also answers the sign-out with Clear-Site-Data.
  document.querySelectorAll('form[action$="/logout"]').forEach(function (form) {
    form.addEventListener("submit", function () {
      try {
        for (var i = window.localStorage.length - 1; i >= 0; i--) {
          var key = window.localStorage.key(i);
          if (key && key.indexOf("oqu-draft:") === 0) { window.localStorage.removeItem(key); }
        }
      } catch (e) { /* storage disabled: nothing was kept */ }
    });
  });
  // Buttons with data-confirm ask before submitting their form.
  document.querySelectorAll("[data-confirm]").forEach(function (btn) {
    btn.addEventListener("click", function (ev) {
      if (!window.confirm(btn.getAttribute("data-confirm"))) { ev.preventDefault(); }
    });
  });
})();
// Ordering questions: a live summary of the order chosen so far, read out by screen readers.
(function () {
  "use strict";
  document.querySelectorAll("[data-ordering]").forEach(function (box) {
    var summary = box.querySelector("[data-ordering-summary]");
    var selects = box.querySelectorAll("select[data-step]");
    if (!summary) { return; }
    function update() {
      var placed = [];
      selects.forEach(function (sel) {
        var value = sel.value;
        if (!value) { return; }
        placed.push({ place: parseInt(value.split(":")[1], 10), text: sel.getAttribute("data-step") });
      });
      placed.sort(function (a, b) { return a.place - b.place; });
      summary.textContent = placed.length
        ? summary.getAttribute("data-label") + " " + placed.map(function (p) { return p.place + ". " + p.text; }).join("; ")
        : "";
    }
    selects.forEach(function (sel) { sel.addEventListener("change", update); });
    update();
  });
})();
