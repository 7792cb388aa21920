/* Autosave of the one-page note (vanilla JS, no dependencies).
 *
 * Nothing typed is lost:
 *  - every change is saved ~2 s after typing stops and when leaving a field;
 *  - until the server confirms, the form's values are mirrored to localStorage under
 *    crisisnotes:u<user>:note:<id>:v<version>:t<tab> and restored on reload if still unsaved;
 *  - offline or on a server error the save is retried (every few seconds and as soon as the
 *    browser is back online);
 *  - a save against an older version (another tab saved first) answers 409: the typed text stays
 *    in the page and the counselor may load the latest version keeping a copy of their text.
 * Without JavaScript the same form posts normally.
 */
// Runs fn once the parser is done (readyState "interactive": before deferred scripts and
// DOMContentLoaded), or now if it already is; handlers run in the order they were added.
function crisisnotesWhenParsed(fn) {
  if (document.readyState !== "loading") { fn(); return; }
  document.addEventListener("readystatechange", function once() {
    document.removeEventListener("readystatechange", once);
    fn();
  });
}
// Every listener this file puts on the document, the window or the body, and its timers, end
// with this scope: aborted when the signed note is shown in place of the draft (below), after
// which nothing here acts on the page (no shortcut, no save, no heartbeat).
var crisisnotesNoteScope = new AbortController();

(function () {
  "use strict";
  // Django's JavaScript catalogue (/jsi18n/, which base.html loads first) translates; the
  // English text stands where it is absent (a test page that loads this file alone).
  var gettext = window.gettext || function (s) { return s; };
  var ngettext = window.ngettext || function (s, p, n) { return n === 1 ? s : p; };
  var interpolate = window.interpolate || function (fmt, obj) {
    return fmt.replace(/%\((\w+)\)s/g, function (m, name) { return String(obj[name]); });
  };
  // Backups are this user's only: session.js clears them at logout and other users' at sign-in.
  var NS = "crisisnotes:u" + (document.body.dataset.userId || "0") + ":";
  var form = document.getElementById("note-form");
  // A locked note's page loads note_locked.js instead (it clears this note's backups).
  if (!form) return;
  var on = { signal: crisisnotesNoteScope.signal };

  var noteId = form.dataset.noteId;
  var saveUrl = form.dataset.saveUrl;
  var versionInput = document.getElementById("note-version");
  var statusEl = document.getElementById("save-status");
  var csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  var SKIP = { csrfmiddlewaretoken: true, version: true };
  var DEBOUNCE_MS = 2000;
  var RETRY_MS = 3000;

  var dirty = false;       // the page holds changes the server has not confirmed
  var inflight = null;     // the running save (a Promise) or null
  var blocked = false;     // conflict or invalid input: wait for the counselor
  var timer = null;
  var submitting = false;
  var signing = false;     // "End session and sign" is posting the whole page: no autosave now
  var asked = false;       // the counselor (or a helper) asked for this save: send it regardless
  var unconfirmed = [];    // saves sent whose answer has not arrived: [{base, fields}]

  function version() { return parseInt(versionInput.value, 10); }
  // Each tab backs up under its own key (its id lives in sessionStorage: per tab, kept across a
  // reload), so one tab's successful save never deletes another tab's unsaved text. Keys start
  // with this user's prefix (NS), so logout and another user's sign-in clear them.
  var tabId = sessionStorage.getItem(NS + "tab");
  if (!tabId) {
    tabId = Date.now().toString(36) + Math.random().toString(36).slice(2, 8);
    sessionStorage.setItem(NS + "tab", tabId);
  }
  function key(v) { return NS + "note:" + noteId + ":v" + v + ":t" + tabId; }
  // A heartbeat says which tabs are open: a backup of a tab that has gone (closed, crashed) is
  // an orphan, and the next page of this note takes it over instead of leaving it unseen.
  function beat() { try { localStorage.setItem(NS + "alive:" + tabId, String(Date.now())); } catch (e) { /* full */ } }
  beat();
  var beating = setInterval(beat, 2000);
  window.addEventListener("pagehide", function () { localStorage.removeItem(NS + "alive:" + tabId); }, on);
  on.signal.addEventListener("abort", function () {  // the draft is gone from this tab
    clearInterval(beating);
    clearTimeout(timer);
    localStorage.removeItem(NS + "alive:" + tabId);
  });
  window.crisisnotesTabAlive = function (id) {
    return Date.now() - parseInt(localStorage.getItem(NS + "alive:" + id) || "0", 10) < 6000;
  };
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function clock() { var d = new Date(); return pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds()); }

  var savedStatus = null;  // the last "saved" status shown: [text, kind]
  var initialStatus = statusEl.textContent;
  function setStatus(text, kind) {
    if (kind === "saved") savedStatus = [text, kind];
    statusEl.textContent = text;
    statusEl.classList.toggle("is-error", kind === "error");
    statusEl.classList.toggle("is-saved", kind === "saved");
  }

  function fields() {
    var out = [];
    new FormData(form).forEach(function (value, name) {
      if (!SKIP[name] && typeof value === "string") out.push([name, value]);
    });
    return out;
  }

  function mirror() {
    try {
      localStorage.setItem(key(version()), JSON.stringify({ at: Date.now(), fields: fields() }));
    } catch (e) { /* storage full or disabled: the page still holds the text */ }
  }

  // The values the server sent (the HTML defaults), whatever the browser has restored since.
  function serverFields() {
    var out = [];
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || SKIP[el.name] || el.disabled || el.type === "submit" || el.type === "button") return;
      if (el.type === "checkbox" || el.type === "radio") {
        if (el.defaultChecked) out.push([el.name, el.value]);
      } else if (el.tagName === "SELECT") {
        var picked = Array.prototype.filter.call(el.options, function (o) { return o.defaultSelected; });
        if (!picked.length && !el.multiple && el.options.length) picked = [el.options[0]];
        picked.forEach(function (o) { out.push([el.name, o.value]); });
      } else {
        out.push([el.name, el.defaultValue]);
      }
    });
    return out;
  }

  // Autosave posts only the stages whose fields differ from what the server last confirmed:
  // each such stage whole (every field of it, as the page would post it, and stages=<key>; an
  // empty stages= when none differs); the server leaves the others exactly as stored. `confirmed` maps a stage to its fields as the
  // server holds them (from the page's HTML, then from each confirmed save); null: unknown, the
  // next save posts the whole page. A field's stage is the section it sits in (data-stage).
  var confirmed = null;
  function stageOfNames() {
    var map = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || map[el.name]) return;
      var stage = el.closest("[data-stage]");
      if (stage && form.contains(stage)) map[el.name] = stage.getAttribute("data-stage");
    });
    return map;
  }
  function byStage(list, map) {
    var out = {};
    list.forEach(function (pair) {
      var stage = map[pair[0]];
      if (stage) (out[stage] = out[stage] || []).push(pair);
    });
    return out;
  }
  function stageKey(list) { return JSON.stringify((list || []).slice().sort()); }
  function markConfirmed(groups, stages) {
    confirmed = confirmed || {};
    stages.forEach(function (stage) { confirmed[stage] = stageKey(groups[stage]); });
  }

  function sameAs(a, b) {
    var key = function (list) { return JSON.stringify(list.slice().sort()); };
    return key(a) === key(b);
  }

  function sameAsPage(stored) {
    return sameAs(stored.fields, serverFields());
  }

  function apply(stored) {
    var values = {};
    stored.fields.forEach(function (pair) { (values[pair[0]] = values[pair[0]] || []).push(pair[1]); });
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || SKIP[el.name] || el.type === "submit" || el.type === "button") return;
      var vals = values[el.name] || [];
      if (el.type === "checkbox" || el.type === "radio") {
        el.checked = vals.indexOf(el.value) !== -1;
      } else if (el.tagName === "SELECT" && el.multiple) {
        Array.prototype.forEach.call(el.options, function (o) { o.selected = vals.indexOf(o.value) !== -1; });
      } else if (vals.length) {
        el.value = vals[0];
      }
    });
  }

  function labelFor(name) {
    var el = form.elements.namedItem(name);
    if (el && el.id) {
      var label = form.querySelector("label[for='" + el.id + "']");
      if (label) return label.textContent.trim();
    }
    return name;
  }

  function showCopy(stored) {
    var box = document.getElementById("conflict-copy");
    var list = box.querySelector("[data-fields]");
    list.textContent = "";
    var current = {};
    fields().forEach(function (p) { current[p[0]] = p[1]; });
    stored.fields.forEach(function (pair) {
      if (!pair[1] || current[pair[0]] === pair[1]) return;
      var dt = document.createElement("dt"); dt.textContent = labelFor(pair[0]);
      var dd = document.createElement("dd"); dd.textContent = pair[1]; dd.style.whiteSpace = "pre-wrap";
      list.appendChild(dt); list.appendChild(dd);
    });
    if (list.children.length) box.classList.remove("d-none");
  }

  // On load: unsaved text of this very version is restored (and saved); text left behind by an
  // older version (a conflict, or a save this page never heard back from) is shown as a copy.
  function restore() {
    var current = version();
    var prefix = NS + "note:" + noteId + ":v";
    var copies = [];
    var waiting = false;
    for (var i = localStorage.length - 1; i >= 0; i--) {
      var k = localStorage.key(i);
      if (!k || k.indexOf(prefix) !== 0) continue;
      var v = parseInt(k.slice(prefix.length), 10);
      var owner = k.indexOf(":t") === -1 ? "" : k.slice(k.indexOf(":t") + 2);
      if (owner && owner !== tabId && v === current && window.crisisnotesTabAlive(owner)) {
        waiting = true;
        continue;  // another open tab's unsaved text: that tab saves it
      }
      var stored;
      try { stored = JSON.parse(localStorage.getItem(k) || ""); } catch (e) { localStorage.removeItem(k); continue; }
      if (owner !== tabId && v === current) localStorage.removeItem(k);  // an orphan: taken over
      if (v === current) {
        if (!sameAsPage(stored)) {
          apply(stored);
          dirty = true;
          setStatus(gettext("Restored unsaved text from this browser — saving…"), "");
          schedule(500);
        } else {
          localStorage.removeItem(k);
        }
      } else if (v < current) {
        if (!sameAsPage(stored)) copies.push(stored);
        localStorage.removeItem(k);
      }
    }
    // The browser itself may have put back what was typed before a reload: that is unsaved too.
    if (!dirty && !sameAs(fields(), serverFields())) {
      dirty = true;
      mirror();
      schedule(500);
    }
    var conflictKey = NS + "conflict:" + noteId;
    var conflictCopy = localStorage.getItem(conflictKey);
    if (conflictCopy) {
      try { copies.push(JSON.parse(conflictCopy)); } catch (e) { /* ignore */ }
      localStorage.removeItem(conflictKey);
    }
    if (copies.length) {
      copies.sort(function (a, b) { return b.at - a.at; });
      showCopy(copies[0]);
      sessionStorage.setItem(NS + "copy:" + noteId, JSON.stringify(copies[0]));
    } else {
      var kept = sessionStorage.getItem(NS + "copy:" + noteId);
      if (kept) { try { showCopy(JSON.parse(kept)); } catch (e) { /* ignore */ } }
    }
    if (waiting) setTimeout(adoptOrphans, 2000);
  }

  // A tab that went without saying so (crashed, killed, closed before its pagehide ran) keeps
  // its heartbeat for up to 6 s: its unsaved text was skipped above as an open tab's. Look again
  // until every such tab has saved (its backup gone) or gone quiet (its backup is an orphan).
  // An orphan is taken over here too: put into the page when this tab has not been edited yet,
  // else shown as a copy to take text from, never written over what was typed here.
  function adoptOrphans() {
    if (on.signal.aborted) return;
    var current = version();
    var prefix = NS + "note:" + noteId + ":v";
    var waiting = false;
    for (var i = localStorage.length - 1; i >= 0; i--) {
      var k = localStorage.key(i);
      if (!k || k.indexOf(prefix) !== 0 || k.indexOf(":t") === -1) continue;
      var v = parseInt(k.slice(prefix.length), 10);
      var owner = k.slice(k.indexOf(":t") + 2);
      if (owner === tabId || v > current) continue;
      if (window.crisisnotesTabAlive(owner)) { waiting = true; continue; }
      var stored;
      try { stored = JSON.parse(localStorage.getItem(k) || ""); } catch (e) { stored = null; }
      localStorage.removeItem(k);
      if (!stored || sameAsPage(stored)) continue;
      if (v === current && !dirty && !inflight && sameAs(fields(), serverFields())) {
        apply(stored);
        dirty = true;
        setStatus(gettext("Restored unsaved text from this browser — saving…"), "");
        schedule(500);
      } else {
        showCopy(stored);
        sessionStorage.setItem(NS + "copy:" + noteId, JSON.stringify(stored));
      }
    }
    if (waiting) setTimeout(adoptOrphans, 2000);
  }

  function schedule(delay) {
    clearTimeout(timer);
    timer = setTimeout(save, delay);
  }

  function clearErrors() {
    form.querySelectorAll(".is-invalid[data-autosave-error]").forEach(function (el) {
      el.classList.remove("is-invalid"); el.removeAttribute("data-autosave-error");
    });
    form.querySelectorAll(".autosave-error").forEach(function (el) { el.remove(); });
  }

  function showErrors(errors) {
    clearErrors();
    Object.keys(errors).forEach(function (id) {
      var el = document.getElementById(id);
      if (!el) return;
      el.classList.add("is-invalid"); el.setAttribute("data-autosave-error", "1");
      var msg = document.createElement("div");
      msg.className = "invalid-feedback d-block autosave-error";
      msg.textContent = errors[id].join(" ");
      el.insertAdjacentElement("afterend", msg);
    });
  }

  // The badge and "last edited" line come rendered by the server's own partials (labels and
  // the rules of what they show live there only): swap them in.
  function swapIn(old, html) {
    if (!old || typeof html !== "string") return;
    var fresh = document.createRange().createContextualFragment(html).firstElementChild;
    if (fresh) old.replaceWith(fresh);
  }
  function updateStages(stages) {
    Object.keys(stages || {}).forEach(function (k) {
      var section = document.getElementById("stage-" + k);
      if (!section) return;
      swapIn(section.querySelector(".completion-badge"), stages[k].badge_html);
      swapIn(section.querySelector("[data-last-edited]"), stages[k].edited_html);
    });
  }

  // The stages whose fields (`groups`, by stage) differ from what the server last confirmed;
  // null when that is unknown (the whole page must be posted).
  function changedStages(groups) {
    if (!confirmed) return null;
    return Object.keys(groups).concat(Object.keys(confirmed)).filter(function (stage, i, list) {
      return list.indexOf(stage) === i && stageKey(groups[stage]) !== confirmed[stage];
    });
  }

  function save() {
    clearTimeout(timer);
    if (inflight) return inflight;
    if (!dirty || blocked || signing) return Promise.resolve();
    var base = version();
    var all = fields();
    var names = stageOfNames();
    var groups = byStage(all, names);
    var stages = changedStages(groups);
    if (stages && !stages.length && !asked) {
      // Nothing differs from what the server holds (a field's change event fires when it loses
      // the focus, after its text was saved): nothing to send.
      dirty = false;
      localStorage.removeItem(key(base));
      if (savedStatus) setStatus(savedStatus[0], savedStatus[1]);
      else setStatus(initialStatus, "");
      return Promise.resolve();
    }
    asked = false;
    // URL-encoded, not multipart: the page has no file inputs, and Django parses ~85 fields of
    // multipart in ~4 ms against ~0.3 ms URL-encoded — a fifth of the autosave's server time.
    var body;
    if (stages) {
      body = new URLSearchParams();
      body.append("version", String(base));
      all.forEach(function (pair) { if (stages.indexOf(names[pair[0]]) !== -1) body.append(pair[0], pair[1]); });
      stages.forEach(function (stage) { body.append("stages", stage); });
      // Nothing differs (an explicit save, a sign check): no stage, the answer all the same.
      if (!stages.length) body.append("stages", "");
    } else {
      body = new URLSearchParams(new FormData(form));
    }
    var sent = stages || Object.keys(groups);
    unconfirmed.push({ base: base, fields: all });
    dirty = false;
    setStatus(gettext("Saving…"), "");
    inflight = fetch(saveUrl, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-Autosave": "1", "X-CSRFToken": csrf, "Accept": "application/json",
                 "X-Sign-Check": form.dataset.signCheck === "1" ? "1" : "0" }
    }).then(function (resp) {
      // Signed out (idle timeout, elsewhere): 401, or a redirect to the login page.
      if (resp.redirected && /\/login\//.test(resp.url)) return { status: 401, data: {} };
      return resp.json().then(function (data) { return { status: resp.status, data: data }; });
    }).then(function (r) {
      if (r.status === 401 || (r.status === 403 && r.data.signed_out)) {
        dirty = true;
        signedOut();
        document.dispatchEvent(new CustomEvent("crisisnotes:session-ended"));
        return;
      }
      if (r.status === 200) {
        unconfirmed = [];
        markConfirmed(groups, sent);
        versionInput.value = r.data.version;
        localStorage.removeItem(key(base));
        if (dirty) mirror();  // typed while the save ran: keep it, under the new version
        clearErrors();
        updateStages(r.data.stages);
        setStatus(interpolate(gettext("saved %(time)s"), { time: r.data.saved_at }, true), "saved");
        form.dispatchEvent(new CustomEvent("crisisnotes:saved", { detail: r.data }));
      } else if (r.status === 409 && r.data.error === "locked") {
        // Signed meanwhile (another tab): nothing saved; the text stays on this page to copy
        // into an addendum. No "load the latest" here: the signed page keeps no drafts.
        dirty = true; blocked = true;
        var lockedBox = document.getElementById("js-conflict");
        lockedBox.querySelector("[data-message]").textContent = r.data.message;
        document.getElementById("load-latest").classList.add("d-none");
        lockedBox.classList.remove("d-none");
        setStatus(gettext("not saved — the note was signed"), "error");
      } else if (r.status === 409) {
        return alreadySaved(r.data.current_version).then(function (same) {
          if (same) return;
          dirty = true; blocked = true;
          var conflictBox = document.getElementById("js-conflict");
          conflictBox.querySelector("[data-message]").textContent = r.data.message;
          conflictBox.classList.remove("d-none");
          setStatus(gettext("not saved — conflict"), "error");
        });
      } else if (r.status === 400) {
        dirty = true; blocked = true;
        showErrors(r.data.errors || {});
        setStatus(gettext("not saved — fix the marked fields"), "error");
      } else if (r.status === 403) {
        blocked = true;
        setStatus(interpolate(gettext("not saved — %(reason)s"), { reason: r.data.message || gettext("this note is locked") }, true), "error");
      } else {
        throw new Error("HTTP " + r.status);
      }
    }).catch(function () {
      dirty = true;
      setStatus(gettext("not saved — retrying"), "error");
      schedule(RETRY_MS);
    }).then(function () {
      inflight = null;
      if (dirty && !blocked) schedule(DEBOUNCE_MS);
    });
    return inflight;
  }

  // The text stays in this browser (this user's key) and is restored and saved after sign-in.
  function signedOut() {
    blocked = true;
    clearTimeout(timer);
    mirror();
    setStatus(gettext("You were signed out — sign in again; your text is kept"), "error");
  }
  document.addEventListener("crisisnotes:signed-out", signedOut, on);

  // A conflict with our own earlier save — it reached the server but its answer did not reach
  // this page (reloaded or dropped mid-save) — is no conflict: if the stored version holds
  // exactly what this page holds, adopt it. The page never claims a save it cannot see: it
  // compares with what the server now serves.
  function alreadySaved(current) {
    return fetch(window.location.pathname, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (resp) { return resp.ok ? resp.text() : ""; })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var other = doc.getElementById("note-form");
        var otherVersion = doc.getElementById("note-version");
        if (!other || !otherVersion || parseInt(otherVersion.value, 10) !== current) return false;
        var theirs = [];
        new FormData(other).forEach(function (value, name) {
          if (!SKIP[name] && typeof value === "string" && name !== "handoff_to") theirs.push([name, value]);
        });
        var plain = function (list) { return list.filter(function (p) { return p[0] !== "handoff_to"; }); };
        // What our lost save carried (if its answer was lost in this page), else what a
        // reloaded page restored from its backup: the page's fields now.
        var candidates = unconfirmed.filter(function (u) { return u.base + 1 === current; })
          .map(function (u) { return u.fields; }).concat([fields()]);
        if (!candidates.some(function (ours) { return sameAs(plain(ours), theirs); })) return false;
        localStorage.removeItem(key(version()));
        versionInput.value = current;
        unconfirmed = [];
        confirmed = null;  // which of our values the server holds: post the whole page next
        blocked = false;
        dirty = !sameAs(plain(fields()), theirs);  // typed since: save it on top
        if (dirty) { mirror(); setStatus(gettext("editing…"), ""); }
        else setStatus(interpolate(gettext("saved (version %(version)s)"), { version: current }, true), "saved");
        return true;
      })
      .catch(function () { return false; });
  }

  function changed(event) {
    if (!event.target.name || SKIP[event.target.name]) return;
    // A side panel's control inside the note (the safety plan's, form="...") is not the note's.
    if (event.target.form !== form) return;
    dirty = true;
    if (blocked && !document.getElementById("js-conflict").classList.contains("d-none")) {
      mirror();
      return;  // a conflict waits for the counselor's choice
    }
    blocked = false;
    mirror();
    setStatus(gettext("editing…"), "");
    schedule(DEBOUNCE_MS);
  }

  // Closing the tab with text the server has not confirmed: the browser asks first (the text
  // is also in this tab's backup, restored on the next visit).
  window.addEventListener("beforeunload", function (event) {
    if (dirty && !submitting) { event.preventDefault(); event.returnValue = ""; }
  }, on);
  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  // Leaving a field for "End session and sign" or "Sign note" starts no save: those post the
  // whole page and save it before signing (a save here would only make the signature wait).
  // The typing's own debounced save stays scheduled, should the counselor not sign after all.
  form.addEventListener("focusout", function (event) {
    var next = event.relatedTarget;
    var action = next && next.getAttribute ? next.getAttribute("data-action") : "";
    if (action === "end-sign" || action === "sign") return;
    if (dirty && !blocked) schedule(0);
  });
  window.addEventListener("online", function () { if (dirty && !blocked) save(); }, on);

  // Action buttons (save, end session, copy forward, sign) post the whole form; wait for a
  // running autosave first so they carry the version the server has.
  document.addEventListener("submit", function (event) {
    if (event.target !== form || submitting) return;
    event.preventDefault();
    var submitter = event.submitter;
    if (submitter && submitter.id === "save-now" && !dirty) { dirty = true; }
    var run = inflight || Promise.resolve();
    run.then(function () {
      if (submitter && submitter.id === "save-now") { blocked = false; asked = true; return save(); }
      submitting = true;
      clearTimeout(timer);
      if (submitter && submitter.getAttribute("formaction")) form.action = submitter.getAttribute("formaction");
      HTMLFormElement.prototype.submit.call(form);
    });
  }, on);

  document.getElementById("load-latest").addEventListener("click", function () {
    localStorage.setItem(NS + "conflict:" + noteId, JSON.stringify({ at: Date.now(), fields: fields() }));
    localStorage.removeItem(key(version()));
    sessionStorage.removeItem(NS + "copy:" + noteId);
    submitting = true;
    window.location.reload();
  });
  document.getElementById("dismiss-copy").addEventListener("click", function () {
    sessionStorage.removeItem(NS + "copy:" + noteId);
    document.getElementById("conflict-copy").classList.add("d-none");
  });

  // Keyboard: Alt+1..9 jump to a stage, Alt+0 the header, Alt+Q the quick note, Ctrl/Alt+S save.
  function focusStage(section) {
    if (!section) return;
    var target = section.querySelector("input:not([type=hidden]):not([disabled]), textarea, select");
    section.scrollIntoView({ block: "start" });
    if (target) target.focus();
  }
  document.addEventListener("keydown", function (event) {
    var k = event.key.toLowerCase();
    if ((event.ctrlKey || event.metaKey || event.altKey) && (k === "s" || event.code === "KeyS")) {
      event.preventDefault();
      dirty = true; blocked = false; asked = true;
      save();
      return;
    }
    if (!event.altKey || event.ctrlKey || event.metaKey) return;
    var digit = /^Digit(\d)$/.exec(event.code || "");
    if (digit) {
      event.preventDefault();
      var n = digit[1];
      focusStage(n === "0" ? document.getElementById("stage-header") : document.querySelector("[data-stage-number='" + n + "']"));
    } else if (event.code === "KeyQ") {
      event.preventDefault();
      var q = document.getElementById("id_quick-text");
      if (q) q.focus();
    }
  }, on);
  document.addEventListener("keydown", function (event) {
    if (event.target && event.target.id === "id_quick-text" && event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      var qf = document.getElementById("quick-note-form");
      if (qf) qf.requestSubmit();
    }
  }, on);
  // htmx replaces the quick-note box; keep the focus in it for the next line.
  document.body.addEventListener("htmx:afterSettle", function () {
    var q = document.getElementById("id_quick-text");
    if (q && (document.activeElement === document.body || !document.activeElement)) q.focus();
  }, on);

  // For the contact-type and sign helpers below: save now; the sign request's hold and outcome.
  window.crisisnotesNote = {
    saveNow: function () { dirty = true; blocked = false; asked = true; return save(); },
    // "End session and sign" posts the whole page, which the server saves before it signs: no
    // autosave may start meanwhile (it would race the signature's save); a running one is
    // waited for, so the post carries the version the server has. Resolves to the fields the
    // post will carry.
    holdForSign: function () {
      clearTimeout(timer);
      signing = true;
      return (inflight || Promise.resolve()).then(function () { return fields(); });
    },
    // For the sign request, once the hold has waited for a running save: each field's stage,
    // and the stages to post (those that differ from what the server confirmed, as an autosave
    // posts them; null: post the whole page). The server holds every other stage as shown.
    signStages: function () {
      var names = stageOfNames();
      return { names: names, stages: changedStages(byStage(fields(), names)) };
    },
    // The sign request's outcome. Signed, or answered with a reload (a conflict: the text is
    // in this tab's backup): the page is left without asking. Refused (unmet rules) after its
    // save: the server holds `posted` at the answer's version, as after an autosave of the whole
    // page (the answer's stage badges are swapped in).
    // Failed (offline, `posted` null): autosave resumes as it was.
    signDone: function (outcome, answer, posted) {
      if (outcome === "leave") { submitting = true; return; }
      signing = false;
      if (outcome === "refused" && posted) {
        var held = byStage(posted, stageOfNames());
        localStorage.removeItem(key(version()));
        versionInput.value = answer.version;
        updateStages(answer.stages);
        markConfirmed(held, Object.keys(held));
        unconfirmed = [];
        dirty = !sameAs(fields(), posted);  // typed while the sign request ran
        if (dirty) mirror();
      }
      if (dirty && !blocked) schedule(DEBOUNCE_MS);
    }
  };
  // The backup check and the first focus wait for the end of parsing: in Chromium a FormData
  // of this form built while the document is still loading costs ~20 ms, ~1 ms once parsed.
  // "interactive" comes right after this last script and before the deferred ones (cssrs.js
  // reads the restored answers) and DOMContentLoaded; nothing can be typed in between.
  function start() {
    var held = byStage(serverFields(), stageOfNames());  // what the server sent: what it holds
    markConfirmed(held, Object.keys(held));
    restore();
    // Where the focus starts: after a refused signature, on the list of unmet rules (read out,
    // and Tab continues into its links); on a brand-new note, in the first field of the first
    // stage (Safety), so the counselor can type at once instead of starting from <body>.
    var signProblems = document.getElementById("sign-problems");
    if (signProblems) {
      signProblems.focus();
    } else if (form.dataset.fresh === "1" && (!document.activeElement || document.activeElement === document.body)) {
      var firstStage = document.querySelector("[data-stage-number='1']");
      var firstField = firstStage && firstStage.querySelector("input:not([type=hidden]):not([disabled]), textarea, select");
      if (firstField) firstField.focus();
    }
    form.dataset.autosave = "ready";  // for people and tests: shortcuts and autosave are live
  }
  crisisnotesWhenParsed(start);
})();

/* Contact type (CLINICAL.md §11): one keystroke picks it, the details it needs show at once.
 * With the focus on a contact-type choice, its letter (F, D, S, W, T, U) selects that type;
 * Alt+T brings the focus there from anywhere. Blocks marked data-contact-show="<types>" are
 * shown only for those types; their fields stay in the form (a change of type drops nothing).
 * A jump to a field inside a collapsed block (e.g. the SAFE-T formulation) opens it first. */
(function () {
  "use strict";
  var group = document.querySelector("[data-contact-type]");
  if (!group) return;
  var on = { signal: crisisnotesNoteScope.signal };
  var radios = Array.prototype.slice.call(group.querySelectorAll("input[type=radio]"));

  function current() {
    var checked = radios.filter(function (r) { return r.checked; })[0];
    return checked ? checked.value : "full_session";
  }
  function apply() {
    var type = current();
    document.querySelectorAll("[data-contact-show]").forEach(function (block) {
      block.hidden = block.getAttribute("data-contact-show").split(" ").indexOf(type) === -1;
    });
    // A follow-up contact asks the "since last contact" screen: switch while nothing is answered.
    if (type === "follow_up") {
      var slc = document.querySelector("[data-cssrs-version] input[value=since_last_contact]");
      var answered = document.querySelector("[data-cssrs-item] input[type=radio]:checked");
      if (slc && !slc.checked && !answered) {
        slc.checked = true;
        slc.dispatchEvent(new Event("change", { bubbles: true }));
      }
    }
  }
  function pick(radio) {
    if (!radio.checked) {
      radio.checked = true;
      radio.dispatchEvent(new Event("change", { bubbles: true }));
    }
    radio.focus();
  }

  group.addEventListener("change", apply);
  group.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey || event.key.length !== 1) return;
    var key = event.key.toUpperCase();
    var match = radios.filter(function (r) { return r.dataset.key === key; })[0];
    if (match) { event.preventDefault(); pick(match); }
  });
  document.addEventListener("keydown", function (event) {
    if (event.altKey && !event.ctrlKey && !event.metaKey && event.code === "KeyT") {
      event.preventDefault();
      var checked = radios.filter(function (r) { return r.checked; })[0] || radios[0];
      checked.focus();
      checked.scrollIntoView({ block: "center" });
    }
  }, on);

  // Links to a field (unmet rules): open every closed <details> around it, then focus it.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[href^='#']");
    if (!link) return;
    var target = document.getElementById(link.getAttribute("href").slice(1));
    if (!target) return;
    for (var el = target.parentElement; el; el = el.parentElement) {
      if (el.tagName === "DETAILS" && !el.open) el.open = true;
      if (el.hidden && el.hasAttribute("data-contact-show")) el.hidden = false;
    }
  }, on);
  crisisnotesWhenParsed(apply);  // after note.js's restore of unsaved text (the type may be among it)
})();

/* Fast to sign: "End session and sign" is one action; when something is missing the unmet rules
 * appear in place (above the button) and stay current as fields are filled (each autosave asks
 * the server for the list while it is shown). Alt+N jumps to the next unmet required field.
 * The follow-up task form's due time and assignee follow the risk live (the clinic's policy
 * window from the session's end; the author by default) until the counselor edits them. */
(function () {
  "use strict";
  // Django's JavaScript catalogue (/jsi18n/, which base.html loads first) translates; the
  // English text stands where it is absent (a test page that loads this file alone).
  var gettext = window.gettext || function (s) { return s; };
  var ngettext = window.ngettext || function (s, p, n) { return n === 1 ? s : p; };
  var interpolate = window.interpolate || function (fmt, obj) {
    return fmt.replace(/%\((\w+)\)s/g, function (m, name) { return String(obj[name]); });
  };
  var form = document.getElementById("note-form");
  var api = window.crisisnotesNote;
  if (!form || !api) return;
  var on = { signal: crisisnotesNoteScope.signal };
  var live = document.getElementById("sign-live");
  var top = document.getElementById("sign-problems");
  var endSign = document.getElementById("end-sign-button");
  var csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;

  function link(p) {
    var li = document.createElement("li");
    var a = document.createElement("a");
    a.className = "alert-link";
    a.href = "#" + p.field_id;
    a.dataset.field = p.field_id;
    a.textContent = p.message;
    li.appendChild(a);
    return li;
  }
  function render(problems) {
    form.dataset.signCheck = "1";
    live.classList.remove("d-none");
    live.classList.toggle("alert-danger", problems.length > 0);
    live.classList.toggle("alert-success", problems.length === 0);
    // The headings are the server's (data-text-* on #sign-live); {n} is the count.
    var text = live.getAttribute(problems.length === 0 ? "data-text-none" : problems.length === 1 ? "data-text-one" : "data-text-many");
    live.querySelector("[data-count]").textContent = (text || "").replace("{n}", String(problems.length));
    var list = live.querySelector("[data-list]");
    list.textContent = "";
    problems.forEach(function (p) { list.appendChild(link(p)); });
    if (top) {  // the list a refused plain POST put at the top follows too
      var ul = top.querySelector("ul");
      ul.textContent = "";
      problems.forEach(function (p) { ul.appendChild(link(p)); });
      top.querySelector("h2").textContent = live.querySelector("[data-count]").textContent;
      top.classList.toggle("alert-danger", problems.length > 0);
      top.classList.toggle("alert-success", problems.length === 0);
    }
  }
  if (top) form.dataset.signCheck = "1";
  form.addEventListener("crisisnotes:saved", function (event) {
    if (event.detail && event.detail.problems) render(event.detail.problems);
  });
  // A safety plan saved in the note's panel may meet a sign rule: refresh the list if shown.
  document.body.addEventListener("crisisnotes:plan-saved", function () {
    if (form.dataset.signCheck === "1") api.saveNow();
  }, on);

  function markSaved(data) {
    var version = document.getElementById("note-version");
    version.value = data.version;
    var ended = document.getElementById("id_header-ended_at");
    if (ended && data.ended_at) { ended.value = data.ended_at; ended.defaultValue = data.ended_at; }
    var end = form.querySelector("[data-action=end]");
    if (end && data.ended_at) end.disabled = true;
  }

  // The sign request's body: the page's form, URL-encoded (Django parses ~200 fields of it in
  // ~1 ms; as multipart it took ~10–25 ms of the request). The values are exactly those a
  // multipart post of the form carried: that encoding writes every line break as CRLF, so this
  // one does too (the form has no file input). Like an autosave, it carries only the stages
  // that differ from what the server confirmed (each whole, named in `stages`): the server
  // builds, validates and saves only those before it signs (the whole page, ~230 fields in
  // seven stages, was a third of the sign request's time) and holds the others as the page
  // shows them. Fields outside the stages (version, the confirm marker) always go.
  function signBody(plan) {
    var body = new URLSearchParams();
    var stages = plan.stages;
    new FormData(form).forEach(function (value, name) {
      var stage = plan.names[name];
      if (stages && stage && stages.indexOf(stage) === -1) return;
      body.append(name, String(value).replace(/\r\n|\r|\n/g, "\r\n"));
    });
    if (stages) {
      stages.forEach(function (stage) { body.append("stages", stage); });
      if (!stages.length) body.append("stages", "");
    }
    return body;
  }

  // Signed: the answer carries the signed note's page (`html`, as its GET gives it), shown in
  // place of the draft at the note's address (session.js's crisisnotesShowPage): one request,
  // no page load (bench/README.md). Everything of the draft's ends first
  // (crisisnotesNoteScope). Anything unexpected (no page, another page than the signed note)
  // loads the note's page instead.
  function showSigned(url, html) {
    Promise.resolve().then(function () {
      return crisisnotesShowPage(url, html, {
        expect: "#note-locked",
        before: function () { crisisnotesNoteScope.abort(); }
      });
    }).catch(function () { window.location.assign(url); });
  }

  // The button's own submit — after the confirm dialog (confirm.js submits the form with this
  // button and confirmed=1) — is sent by script, so refused rules are listed in place.
  form.addEventListener("submit", function (event) {
    if (event.submitter !== endSign) return;
    event.preventDefault();
    event.stopPropagation();  // not the page's plain submit of the other action buttons
    endSign.disabled = true;
    var posted = null;
    api.holdForSign().then(function (fields) {
      posted = fields;
      return fetch(endSign.getAttribute("formaction"), {
        method: "POST",
        body: signBody(api.signStages()),
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrf, "Accept": "application/json" }
      });
    }).then(function (resp) {
      return resp.json().then(function (data) { return { status: resp.status, data: data }; });
    }).then(function (r) {
      if (r.data.signed) { api.signDone("leave"); showSigned(r.data.url, r.data.page); return; }
      if (r.status === 422) {
        api.signDone("refused", r.data, posted);
        markSaved(r.data);
        render(r.data.problems);
        live.focus();
        live.scrollIntoView({ block: "nearest" });
      } else {
        api.signDone("leave");
        window.location.reload();  // a conflict or invalid field: the page says which
      }
    }).catch(function () {
      api.signDone("failed");
      var status = document.getElementById("save-status");
      status.textContent = gettext("not signed — offline? try again");
      status.classList.add("is-error");
    }).then(function () { endSign.disabled = false; });
  });

  // Alt+N: the next unmet required field after the focus (wrapping), its section opened first.
  function unmetIds() {
    var source = !live.classList.contains("d-none") ? live : top;
    if (!source) return [];
    return Array.prototype.map.call(source.querySelectorAll("a[data-field]"), function (a) { return a.dataset.field; });
  }
  function reveal(target) {
    for (var el = target.parentElement; el; el = el.parentElement) {
      if (el.tagName === "DETAILS" && !el.open) el.open = true;
      if (el.hidden && el.hasAttribute("data-contact-show")) el.hidden = false;
    }
  }
  function jumpNext() {
    var targets = unmetIds().map(function (id) { return document.getElementById(id); }).filter(Boolean);
    if (!targets.length) return false;
    var here = document.activeElement;
    var next = targets.filter(function (t) {
      return here && here !== document.body && (here.compareDocumentPosition(t) & Node.DOCUMENT_POSITION_FOLLOWING) && !here.contains(t);
    })[0] || targets[0];
    reveal(next);
    next.scrollIntoView({ block: "center" });
    next.focus();
    return true;
  }
  document.addEventListener("keydown", function (event) {
    if (!(event.altKey && !event.ctrlKey && !event.metaKey && event.code === "KeyN")) return;
    event.preventDefault();
    if (jumpNext()) return;
    // No list yet: ask for it (a save with the check), then jump.
    form.dataset.signCheck = "1";
    api.saveNow().then(function () { jumpNext(); });
  }, on);

  // Live follow-up due time and assignee.
  var due = document.getElementById("id_followup-due_at");
  var assignee = document.getElementById("id_followup-assigned_to");
  var loadedAt = Date.now();
  if (due) due.addEventListener("input", function () { due.dataset.edited = "1"; });
  function parseLocal(value) {  // "YYYY-MM-DDTHH:MM" as a naive (UTC-based) timestamp
    var m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d)/.exec(value || "");
    return m ? Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5]) : null;
  }
  function formatLocal(ms) {
    var d = new Date(ms), p = function (n) { return (n < 10 ? "0" : "") + n; };
    return d.getUTCFullYear() + "-" + p(d.getUTCMonth() + 1) + "-" + p(d.getUTCDate()) + "T" + p(d.getUTCHours()) + ":" + p(d.getUTCMinutes());
  }
  function level() {
    var clinician = form.querySelector("input[name='safety-formulation-clinician_level']:checked");
    if (clinician) return clinician.value;
    var screen = document.getElementById("cssrs-risk");
    return screen ? screen.dataset.level || "" : "";
  }
  function fillTask() {
    if (!due) return;
    var hours = { high: form.dataset.dueHoursHigh, moderate: form.dataset.dueHoursModerate }[level()];
    var imminent = form.querySelector("input[name='safety-formulation-imminent']:checked");
    if (imminent) hours = form.dataset.dueHoursHigh;
    if (hours && !due.dataset.edited) {
      var ended = document.getElementById("id_header-ended_at");
      var base = parseLocal(ended && ended.value) || (parseLocal(form.dataset.serverNow) + (Date.now() - loadedAt));
      due.value = formatLocal(base + hours * 3600 * 1000);
    }
    if (assignee && !assignee.value) assignee.value = form.dataset.authorId;
  }
  form.addEventListener("change", function () { setTimeout(fillTask, 0); });  // after cssrs.js
  form.addEventListener("input", function (event) {
    if (event.target && event.target.id === "id_header-ended_at") fillTask();
  });
  document.body.addEventListener("htmx:afterSettle", function () {
    due = document.getElementById("id_followup-due_at");
    assignee = document.getElementById("id_followup-assigned_to");
    if (due) due.addEventListener("input", function () { due.dataset.edited = "1"; });
  }, on);
})();

/* Snippets: the clinic's phrases, inserted from the keyboard into any text field of the note
 * (and the quick note). Type ";" and the first letters of a shortcut: a menu lists the matches;
 * Tab or Enter inserts the highlighted one (replacing ";shortcut"), the arrows move, Escape
 * closes. The inserted text is typed text like any other: autosaved, backed up, undoable. */
(function () {
  "use strict";
  var data = document.getElementById("snippets-data");
  var menu = document.getElementById("snippet-menu");
  if (!data || !menu) return;
  var snippets = [];
  try { snippets = JSON.parse(data.textContent) || []; } catch (e) { return; }
  if (!snippets.length) return;
  var on = { signal: crisisnotesNoteScope.signal };
  var field = null, matches = [], index = 0, start = -1;

  function eligible(el) {
    return el && (el.tagName === "TEXTAREA" || (el.tagName === "INPUT" && el.type === "text")) &&
      el.closest("#note-form, #quick-note-form");
  }
  function close() { menu.classList.add("d-none"); menu.textContent = ""; field = null; matches = []; }
  function draw() {
    menu.textContent = "";
    matches.forEach(function (s, i) {
      var li = document.createElement("li");
      li.className = "list-group-item py-1" + (i === index ? " active" : "");
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", i === index ? "true" : "false");
      li.textContent = ";" + s.shortcut + " — " + s.text;
      li.addEventListener("mousedown", function (e) { e.preventDefault(); index = i; insert(); });
      menu.appendChild(li);
    });
    var box = field.getBoundingClientRect();
    menu.style.left = (window.scrollX + box.left) + "px";
    menu.style.top = (window.scrollY + box.bottom) + "px";
    menu.classList.remove("d-none");
  }
  function insert() {
    var s = matches[index], el = field, end = el.selectionStart;
    el.value = el.value.slice(0, start) + s.text + el.value.slice(end);
    var caret = start + s.text.length;
    el.setSelectionRange(caret, caret);
    close();
    el.dispatchEvent(new Event("input", { bubbles: true }));  // autosave and backup see it
  }
  document.addEventListener("input", function (event) {
    var el = event.target;
    if (!eligible(el)) return;
    var before = el.value.slice(0, el.selectionStart);
    var m = /(^|[\s(]);([a-z0-9]{1,20})$/i.exec(before);
    if (!m) { if (field) close(); return; }
    var typed = m[2].toLowerCase();
    matches = snippets.filter(function (s) { return s.shortcut.indexOf(typed) === 0; });
    if (!matches.length) { close(); return; }
    field = el; index = 0; start = before.length - typed.length - 1;
    draw();
  }, on);
  document.addEventListener("keydown", function (event) {
    if (!field || event.target !== field) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      index = (index + (event.key === "ArrowDown" ? 1 : matches.length - 1)) % matches.length;
      draw();
    } else if ((event.key === "Tab" || event.key === "Enter") && !event.shiftKey && !event.ctrlKey && !event.metaKey) {
      event.preventDefault();
      insert();
    } else if (event.key === "Escape") {
      event.preventDefault();
      close();
    }
  }, { capture: true, signal: on.signal });
  document.addEventListener("focusout", function (event) { if (event.target === field) setTimeout(close, 0); }, on);
})();

/* The quick-note box keeps what is typed but not yet added: backed up per tab on every keystroke
 * (restored after a reload or a closed tab), and an "Add" that cannot reach the server (offline,
 * server error) keeps the text in the box, says so, and is sent again when the browser is back
 * online or every few seconds. */
(function () {
  "use strict";
  // Django's JavaScript catalogue (/jsi18n/, which base.html loads first) translates; the
  // English text stands where it is absent (a test page that loads this file alone).
  var gettext = window.gettext || function (s) { return s; };
  var ngettext = window.ngettext || function (s, p, n) { return n === 1 ? s : p; };
  var interpolate = window.interpolate || function (fmt, obj) {
    return fmt.replace(/%\((\w+)\)s/g, function (m, name) { return String(obj[name]); });
  };
  var form = document.getElementById("note-form");
  if (!form) return;
  var on = { signal: crisisnotesNoteScope.signal };
  var noteId = form.dataset.noteId;
  // This user's keys only (session.js clears them at logout and other users' at sign-in).
  var NS = "crisisnotes:u" + (document.body.dataset.userId || "0") + ":";
  var tabId = sessionStorage.getItem(NS + "tab") || "";
  var backupKey = NS + "quick:" + noteId + ":t" + tabId;
  var pending = false, retry = null;

  function box() { return document.getElementById("id_quick-text"); }
  function status(text, error) {
    var form = document.getElementById("quick-note-form");
    if (!form) return;
    var el = form.querySelector("[data-quick-status]");
    if (!el) {
      el = document.createElement("div");
      el.setAttribute("data-quick-status", "");
      el.setAttribute("role", "status");
      el.setAttribute("data-testid", "quick-status");
      form.appendChild(el);
    }
    el.className = "small " + (error ? "text-danger" : "text-body-secondary");
    el.textContent = text;
  }
  function orphan() {
    var prefix = NS + "quick:" + noteId + ":t";
    for (var i = 0; i < localStorage.length; i++) {
      var k = localStorage.key(i) || "";
      var owner = k.slice(prefix.length);
      if (k.indexOf(prefix) === 0 && owner !== tabId && !(window.crisisnotesTabAlive && window.crisisnotesTabAlive(owner))) {
        var text = localStorage.getItem(k);
        localStorage.removeItem(k);  // taken over by this tab
        if (text) { localStorage.setItem(backupKey, text); return text; }
      }
    }
    return null;
  }
  function restore() {
    var q = box(), kept = localStorage.getItem(backupKey) || orphan();
    if (q && kept && !q.value) {
      q.value = kept;
      status(gettext("Restored a quick note not yet added — press Ctrl+Enter to add it."), false);
    }
  }
  function resend() {
    clearTimeout(retry);
    var q = box(), qf = document.getElementById("quick-note-form");
    if (pending && q && q.value.trim() && qf) qf.requestSubmit();
  }
  document.addEventListener("input", function (event) {
    if (event.target && event.target.id === "id_quick-text") {
      try { localStorage.setItem(backupKey, event.target.value); } catch (e) { /* full */ }
    }
  }, on);
  document.body.addEventListener("htmx:afterRequest", function (event) {
    var source = event.detail && event.detail.elt;
    if (!source || source.id !== "quick-note-form") return;
    if (event.detail.successful) {
      pending = false;
      var q = box();
      // The swapped box is empty after an add (or shows the typed text with an error).
      if (q && !q.value) localStorage.removeItem(backupKey);
    } else {
      pending = true;
      status(gettext("Not added yet — no connection. It stays here and is added when the connection is back."), true);
      retry = setTimeout(resend, 5000);
    }
  }, on);
  window.addEventListener("online", resend, on);
  on.signal.addEventListener("abort", function () { clearTimeout(retry); });
  restore();
})();
