// Oqu's workspace: editors in the page, autosave, Run and Submit (lms/workspace/views.py).
// Every text shown comes translated from the page (#ws-config); every output arrives
// already made safe by the server (lms/workspace/outputs.py).
(function () {
  "use strict";
  var configEl = document.getElementById("ws-config");
  if (!configEl || !window.OquEditor) { return; }
  var config = JSON.parse(configEl.textContent);
  var released = JSON.parse((document.getElementById("ws-released") || {}).textContent || "{}");
  var S = config.strings || {};
  var urls = config.urls || {};
  var list = document.getElementById("ws-cells");
  var announcer = document.getElementById("ws-announcer");
  var statusEl = document.getElementById("ws-save-status");
  var csrf = config.csrf || "";
  var base = config.revision || 0;
  var cells = [];
  var dirty = false;
  var timer = null;
  var chain = Promise.resolve();
  var retryDelay = 2000;
  var signedOut = false;
  // A Run's status is polled at 80 ms, then a little less often (bench/workspace/run polls
  // the same way, so its figures are what the page shows).
  var POLL_FIRST = 80;
  var POLL_GROWTH = 1.15;

  function fill(text, values) {
    return String(text).replace(/\{(\w+)\}/g, function (_, k) { return values[k]; });
  }
  function announce(text) {
    announcer.textContent = "";
    window.setTimeout(function () { announcer.textContent = text; }, 50);
  }
  function setStatus(key, extra) {
    if (!statusEl) { return; }
    statusEl.textContent = S[key] || key;
    statusEl.setAttribute("data-state", key);
    if (extra) { statusEl.appendChild(document.createTextNode(" ")); statusEl.appendChild(extra); }
  }
  function number(cell) { return cells.indexOf(cell) + 1; }

  // -- cells and their editors ------------------------------------------------------------
  function setUp(li) {
    var cell = {
      id: li.getAttribute("data-cell-id"),
      type: li.getAttribute("data-type"),
      role: li.getAttribute("data-role"),
      gradeId: li.getAttribute("data-grade-id"),
      el: li,
      editor: null,
      textarea: null,
    };
    var pre = li.querySelector("[data-source]");
    if (pre) {
      var text = pre.textContent;
      var holder = document.createElement("div");
      holder.className = "ws-editor";
      pre.replaceWith(holder);
      var readOnly = cell.role === "locked" || !config.editable;
      if (cell.type === "code") {
        cell.editor = window.OquEditor.create(holder, {
          doc: text,
          readOnly: readOnly,
          nonce: config.nonce,
          label: fill(S.editorLabel || "Cell {n}", { n: 0 }),
          onChange: changed,
          onRun: function () { run(cell); },
        });
      } else {
        cell.textarea = document.createElement("textarea");
        cell.textarea.value = text;
        cell.textarea.readOnly = readOnly;
        cell.textarea.addEventListener("input", changed);
        holder.appendChild(cell.textarea);
      }
    }
    wire(cell);
    return cell;
  }
  function relabel() {
    cells.forEach(function (cell, i) {
      var label = fill(S.editorLabel || "", { n: i + 1 });
      if (cell.editor) { cell.editor.view.contentDOM.setAttribute("aria-label", label); }
      if (cell.textarea) { cell.textarea.setAttribute("aria-label", label); }
      var head = cell.el.querySelector(".ws-cell-number");
      if (head) { head.textContent = fill(S.cell || "{n}", { n: i + 1 }); }
    });
  }
  function sourceOf(cell) {
    if (cell.editor) { return cell.editor.getText(); }
    if (cell.textarea) { return cell.textarea.value; }
    return null;
  }
  function collect() {
    return cells.map(function (cell) {
      var out = { id: cell.id, type: cell.type };
      if (cell.gradeId) { out.grade_id = cell.gradeId; }
      if (cell.role !== "locked") { out.source = sourceOf(cell) || ""; }
      return out;
    });
  }
  function wire(cell) {
    if (!config.editable) { return; }
    var li = cell.el;
    var on = function (selector, handler) {
      var button = li.querySelector(selector);
      if (button) { button.addEventListener("click", handler); }
    };
    on(".ws-run", function () { run(cell); });
    on(".ws-reset", function () {
      if (cell.gradeId in released && window.confirm(S.resetConfirm)) {
        if (cell.editor) { cell.editor.setText(released[cell.gradeId]); }
        if (cell.textarea) { cell.textarea.value = released[cell.gradeId]; changed(); }
      }
    });
    on(".ws-delete", function () {
      if (!window.confirm(S.deleteConfirm)) { return; }
      var at = cells.indexOf(cell);
      if (cell.editor) { cell.editor.destroy(); }
      li.remove();
      cells.splice(at, 1);
      relabel();
      changed();
      var next = cells[Math.min(at, cells.length - 1)];
      var button = next && next.el.querySelector("button");
      if (button) { button.focus(); }
    });
    on(".ws-add", function () { addBelow(cell); });
  }
  function addBelow(cell) {
    var li = document.createElement("li");
    li.className = "ws-cell ws-code ws-own";
    li.setAttribute("data-cell-id", randomId());
    li.setAttribute("data-role", "own");
    li.setAttribute("data-type", "code");
    var head = document.createElement("div");
    head.className = "ws-cell-head";
    var label = document.createElement("span");
    label.className = "ws-cell-label";
    var numberEl = document.createElement("span");
    numberEl.className = "ws-cell-number";
    label.append(numberEl, " · " + S.ownCell);
    var count = document.createElement("span");
    count.className = "ws-count";
    count.setAttribute("aria-hidden", "true");
    var actions = document.createElement("span");
    actions.className = "ws-cell-actions";
    [["ws-run small", S.run], ["ws-delete secondary small", S.delete],
      ["ws-add secondary small", S.addCell]].forEach(function (b) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = b[0];
      button.textContent = b[1];
      actions.appendChild(button);
    });
    head.append(label, count, actions);
    var pre = document.createElement("pre");
    pre.setAttribute("data-source", "");
    var output = document.createElement("div");
    output.className = "ws-output";
    output.id = "out-" + li.getAttribute("data-cell-id");
    li.append(head, pre, output);
    cell.el.after(li);
    var fresh = setUp(li);
    cells.splice(cells.indexOf(cell) + 1, 0, fresh);
    relabel();
    changed();
    fresh.editor.focus();
  }
  function randomId() {
    var bytes = new Uint8Array(6);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  // -- the copy kept in this browser until the server confirms a save --------------------
  function keepLocal() {
    try {
      window.localStorage.setItem(config.storageKey, JSON.stringify({ base: base, cells: collect() }));
    } catch (e) { /* full or disabled storage: the server copy still comes */ }
  }
  function dropLocal() {
    try { window.localStorage.removeItem(config.storageKey); } catch (e) { /* nothing kept */ }
  }
  function restoreLocal() {
    var kept = null;
    try { kept = JSON.parse(window.localStorage.getItem(config.storageKey) || "null"); } catch (e) { kept = null; }
    if (!kept || !Array.isArray(kept.cells)) { return; }
    if (JSON.stringify(kept.cells) === JSON.stringify(collect())) { dropLocal(); return; }
    var byId = {};
    kept.cells.forEach(function (c) { byId[c.id] = c; });
    // Sources of the cells the page has; cells added since the last save come back too.
    cells.forEach(function (cell) {
      var c = byId[cell.id];
      if (c && cell.role !== "locked" && typeof c.source === "string") {
        if (cell.editor) { cell.editor.setText(c.source); }
        if (cell.textarea) { cell.textarea.value = c.source; }
      }
    });
    var known = {};
    cells.forEach(function (cell) { known[cell.id] = true; });
    var previous = null;
    kept.cells.forEach(function (c) {
      if (known[c.id]) { previous = cells.filter(function (x) { return x.id === c.id; })[0]; return; }
      if (previous && c.type === "code" && !c.grade_id) {
        addBelow(previous);
        var added = cells[cells.indexOf(previous) + 1];
        added.el.setAttribute("data-cell-id", c.id);
        added.id = c.id;
        added.editor.setText(c.source || "");
        previous = added;
      }
    });
    base = typeof kept.base === "number" ? kept.base : base;
    changed();
  }

  // -- saving -----------------------------------------------------------------------------
  function changed() {
    if (!config.editable) { return; }
    dirty = true;
    keepLocal();
    if (!signedOut) { setStatus("unsaved"); }
    window.clearTimeout(timer);
    timer = window.setTimeout(function () { enqueue(saveNow); }, config.autosaveMs || 1500);
  }
  function enqueue(step) {
    chain = chain.then(step, step);
    return chain;
  }
  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      redirect: "manual", // a redirect (to the login page) is never a success
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body),
    });
  }
  function answer(response) {
    var type = response.headers.get("Content-Type") || "";
    if (response.type === "opaqueredirect" || type.indexOf("application/json") < 0) {
      return Promise.resolve({ status: response.status === 0 ? 401 : response.status, data: {} });
    }
    return response.json().then(function (data) { return { status: response.status, data: data }; },
      function () { return { status: 0, data: {} }; });
  }
  // After a save, the server must name the revision it stored: anything else is a failure.
  function stored(result, sent) {
    if (result.status >= 200 && result.status < 300 && result.data.saved === true &&
        typeof result.data.revision === "number") {
      base = result.data.revision;
      retryDelay = 2000;
      if (JSON.stringify(collect()) === sent) {
        dirty = false;
        dropLocal();
        setStatus("saved");
      } else {
        keepLocal();
      }
      return true;
    }
    return false;
  }
  function saveNow() {
    if (!dirty || signedOut) { return Promise.resolve(); }
    var sent = JSON.stringify(collect());
    setStatus("saving");
    return post(urls.draft, { base: base, cells: JSON.parse(sent) }).then(answer).then(function (result) {
      if (stored(result, sent)) {
        if (dirty) { changed(); }
        return;
      }
      trouble(result, saveNow);
    }, function () { trouble({ status: 0, data: {} }, saveNow); });
  }
  // What a refused request means, and how the page recovers from it.
  function trouble(result, again) {
    if (result.status === 401) { return signOut(again); }
    if (result.status === 409 && result.data.error === "conflict") { return conflict(result.data); }
    if (result.status === 400 && result.data.error === "csrf") {
      return freshToken().then(function () { enqueue(again); });
    }
    if (result.status === 400) { setStatus(result.data.message || S.error); return; }
    if (result.status === 429) {
      window.setTimeout(function () { enqueue(again); }, 5000);
      setStatus("offline");
      return;
    }
    setStatus("offline");
    window.setTimeout(function () { enqueue(again); }, retryDelay);
    retryDelay = Math.min(retryDelay * 2, 30000);
  }
  function freshToken() {
    return fetch(urls.token, { credentials: "same-origin", redirect: "manual",
      headers: { "Accept": "application/json" } }).then(answer).then(function (result) {
      if (result.status === 200 && result.data.csrf_token) {
        csrf = result.data.csrf_token;
        return true;
      }
      return false;
    }, function () { return false; });
  }
  function signOut(again) {
    var link = document.createElement("a");
    link.href = urls.login;
    link.target = "_blank";
    link.rel = "noopener";
    link.textContent = S.signIn;
    setStatus("signedOut", link);
    if (signedOut) { return; }
    signedOut = true;
    var check = function () {
      freshToken().then(function (ok) {
        if (!ok) { window.setTimeout(check, 4000); return; }
        signedOut = false;
        setStatus("unsaved");
        enqueue(again);
      });
    };
    window.setTimeout(check, 4000);
  }
  function conflict(data) {
    var box = document.getElementById("ws-conflict");
    document.getElementById("ws-conflict-text").textContent = data.message || S.conflict;
    box.hidden = false;
    setStatus("unsaved");
    document.getElementById("ws-open-latest").onclick = function () {
      dropLocal();
      window.location.reload();
    };
    document.getElementById("ws-keep-mine").onclick = function () {
      box.hidden = true;
      base = data.current;
      dirty = true;
      enqueue(saveNow);
    };
    document.getElementById("ws-keep-mine").focus();
  }

  // -- Run --------------------------------------------------------------------------------
  function run(cell) {
    if (cell.type !== "code" || !config.editable) { return; }
    window.clearTimeout(timer);
    var at = number(cell);
    var upto = cells.slice(0, at);
    upto.forEach(function (c) { if (c.type === "code") { c.el.classList.add("ws-running"); } });
    showNotice(cell, S.queued);
    enqueue(function () {
      var sent = JSON.stringify(collect());
      return post(urls.runs, { base: base, cells: JSON.parse(sent), cell_id: cell.id })
        .then(answer).then(function (result) {
          if (stored(result, sent)) { return poll(result.data.status_url, cell, upto); }
          done(upto);
          if (result.status === 429) {
            showNotice(cell, result.data.message || S.busy);
            announce(result.data.message || S.busy);
            return;
          }
          showNotice(cell, result.data.message || "");
          trouble(result, function () { return Promise.resolve(); });
        }, function () { done(upto); showNotice(cell, S.offline); });
    });
  }
  function done(upto) {
    upto.forEach(function (c) { c.el.classList.remove("ws-running"); });
  }
  function poll(url, cell, upto) {
    var delay = POLL_FIRST;
    showNotice(cell, S.running);
    return new Promise(function (resolve) {
      var tick = function () {
        fetch(url, { credentials: "same-origin", redirect: "manual", headers: { "Accept": "application/json" } })
          .then(answer).then(function (result) {
            if (result.status === 200 && result.data.finished) {
              done(upto);
              showRun(result.data, cell);
              resolve();
              return;
            }
            if (result.status === 401 || result.status === 404) { done(upto); resolve(); return; }
            delay = Math.min(delay * POLL_GROWTH, 1000);
            window.setTimeout(tick, delay);
          }, function () { window.setTimeout(tick, 1000); });
      };
      window.setTimeout(tick, delay);
    });
  }
  function showRun(data, cell) {
    if (data.status === "cancelled") { return; }
    Object.keys(data.cells || {}).forEach(function (id) {
      var target = cells.filter(function (c) { return c.id === id; })[0];
      if (target) { render(target, data.cells[id]); }
    });
    var mine = (data.cells || {})[cell.id];
    if (!mine) {
      showNotice(cell, data.reason || S.error);
      announce(data.reason || S.error);
      return;
    }
    var n = number(cell);
    var error = mine.outputs.filter(function (o) {
      // A passed check is a notice too, but not a problem to announce.
      return o.kind === "error" || (o.kind === "notice" && !(o.code === "check" && o.status === "passed"));
    })[0];
    if (error) {
      announce(fill(S.cellError, { n: n, error: error.summary || error.text || "" }));
    } else if (mine.outputs.length) {
      var text = cell.el.querySelector(".ws-output").textContent.slice(0, 300);
      announce(fill(S.cellDone, { n: n }) + " " + text);
    } else {
      announce(fill(S.cellNoOutput, { n: n }));
    }
  }
  function outputBox(cell) { return cell.el.querySelector(".ws-output"); }
  function showNotice(cell, text) {
    var box = outputBox(cell);
    if (!box) { return; }
    box.textContent = "";
    if (text) {
      var p = document.createElement("p");
      p.className = "ws-out ws-notice ws-transient";
      p.textContent = text;
      box.appendChild(p);
    }
  }
  function render(cell, shown) {
    var box = outputBox(cell);
    if (!box) { return; }
    box.textContent = "";
    var count = cell.el.querySelector(".ws-count");
    if (count) { count.textContent = shown.count ? "[" + shown.count + "]" : ""; }
    shown.outputs.forEach(function (o) {
      var el;
      if (o.kind === "image") {
        el = document.createElement("img");
        el.src = o.src;
        el.alt = S.image || "";
      } else if (o.kind === "notice") {
        el = document.createElement("p");
        el.textContent = o.text;
      } else if (o.kind === "html") {
        el = document.createElement("div");
        el.className = "table-scroll";
        el.innerHTML = o.html; // allow-listed on the server
      } else {
        el = document.createElement("pre");
        el.innerHTML = o.html; // escaped text and colour spans, made on the server
        if (o.name === "stderr") { el.classList.add("ws-stderr"); }
      }
      el.classList.add("ws-out", "ws-" + o.kind);
      if (o.kind !== "image" && o.kind !== "notice") { el.tabIndex = 0; } // it may scroll
      box.appendChild(el);
    });
  }

  // -- Submit -----------------------------------------------------------------------------
  function submit() {
    if (!window.confirm(S.submitConfirm)) { return; }
    window.clearTimeout(timer);
    var button = document.getElementById("ws-submit");
    button.disabled = true;
    button.textContent = S.submitting;
    enqueue(function () {
      var sent = JSON.stringify(collect());
      return post(urls.submit, { base: base, cells: JSON.parse(sent) }).then(answer).then(function (result) {
        button.textContent = S.submit;
        if (stored(result, sent)) {
          announce(S.submitted);
          showResult(result.data.status_url);
          button.disabled = false;
          return;
        }
        button.disabled = false;
        if (result.data.message) { announce(result.data.message); }
        trouble(result, function () { return Promise.resolve(); });
      }, function () { button.disabled = false; button.textContent = S.submit; setStatus("offline"); });
    });
  }
  // The grading status fragment (the assignments feature's), refreshed until final.
  function showResult(url) {
    var box = document.getElementById("ws-result");
    var delay = 250;
    var tick = function () {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(function (html) {
          box.innerHTML = html; // rendered and escaped by the server's template
          var fresh = box.firstElementChild;
          if (fresh && fresh.hasAttribute("data-poll-url")) {
            delay = Math.min(delay * 1.5, 2000);
            window.setTimeout(tick, delay);
          }
        }, function () { window.setTimeout(tick, 2000); });
    };
    tick();
  }

  // -- start ------------------------------------------------------------------------------
  Array.prototype.forEach.call(list.querySelectorAll(".ws-cell"), function (li) {
    cells.push(setUp(li));
  });
  relabel();
  if (!config.editable) { return; }
  if (config.opened) {
    setStatus(fill(S.revisionOpened, { n: config.opened }));
  } else {
    restoreLocal();
    if (!dirty) { setStatus("saved"); }
  }
  document.getElementById("ws-submit").addEventListener("click", submit);
  var picker = document.getElementById("ws-revisions");
  var listed = false;
  picker.addEventListener("focus", function () {
    if (listed) { return; }
    listed = true;
    fetch(urls.revisions, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.json(); }).then(function (data) {
        (data.revisions || []).forEach(function (r) {
          var option = document.createElement("option");
          option.value = r.number;
          option.textContent = "#" + r.number + " · " + (S["kind_" + r.kind] || r.kind) + " · " +
            new Date(r.at).toLocaleString(document.documentElement.lang);
          picker.appendChild(option);
        });
      }, function () { listed = false; });
  });
  picker.addEventListener("change", function () {
    if (!picker.value) { return; }
    var target = window.location.pathname + "?revision=" + encodeURIComponent(picker.value);
    window.clearTimeout(timer);
    enqueue(saveNow).then(function () { if (!dirty) { window.location.assign(target); } });
  });
  window.addEventListener("online", function () { if (dirty) { enqueue(saveNow); } });
  // Leaving the page: a beacon carries the last text (and the CSRF token in its body, as a
  // beacon cannot send headers); the browser's copy stays until a save is confirmed.
  window.addEventListener("pagehide", function () {
    if (!dirty || signedOut || !navigator.sendBeacon) { return; }
    keepLocal();
    var form = new FormData();
    form.append("csrf_token", csrf);
    form.append("payload", JSON.stringify({ base: base, cells: collect() }));
    navigator.sendBeacon(urls.draft, form);
  });
})();
