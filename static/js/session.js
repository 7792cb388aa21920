/* The session in the browser: automatic logoff warning, and no patient text left behind.
 *
 *  - The server signs a session out after the clinic's idle timeout (crisisnotes.accounts.idle).
 *    This timer starts from the time left that the page was written with, then asks the server
 *    when it is due (the question is not activity), warns a minute before
 *    with "Stay signed in", and when the time is up leaves the page: to the login page, or, on a
 *    page with typed text (the note), hides the page and says "sign in again; your text is kept"
 *    (the text stays in this browser under this user's key and is restored after sign-in).
 *  - Note backups in localStorage are keyed per user ("crisisnotes:u<id>:..."). Logging out
 *    clears all of them; a page of another user clears every key that is not theirs.
 */
(function () {
  "use strict";
  var body = document.body;
  var uid = body.dataset.userId;
  var PREFIX = "crisisnotes:";

  function clearStored(keep) {
    [localStorage, sessionStorage].forEach(function (store) {
      for (var i = store.length - 1; i >= 0; i--) {
        var name = store.key(i) || "";
        if (name.indexOf(PREFIX) === 0 && !(keep && name.indexOf(keep) === 0)) store.removeItem(name);
      }
    });
  }

  document.addEventListener("submit", function (event) {
    if (event.target.hasAttribute && event.target.hasAttribute("data-logout")) clearStored(null);
  }, true);
  if (!uid) return;
  clearStored(PREFIX + "u" + uid + ":");

  var statusUrl = body.dataset.sessionStatusUrl;
  var keepaliveUrl = body.dataset.sessionKeepaliveUrl;
  var loginUrl = body.dataset.loginUrl;
  var warning = document.getElementById("idle-warning");
  var secondsEl = warning.querySelector("[data-idle-seconds]");
  var WARN = 60;  // seconds
  var timer = null;
  var tick = null;
  var over = false;

  function csrf() {
    var m = /"X-CSRFToken": "([^"]*)"/.exec(body.getAttribute("hx-headers") || "");
    return m ? m[1] : "";
  }
  function next() { return loginUrl + "?next=" + encodeURIComponent(location.pathname + location.search); }

  function signedOut() {
    if (over) return;
    over = true;
    clearTimeout(timer); clearInterval(tick);
    warning.classList.add("d-none");
    document.dispatchEvent(new CustomEvent("crisisnotes:signed-out"));
    if (document.getElementById("note-form")) {
      body.classList.add("is-signed-out");
      var link = document.getElementById("sign-in-again");
      link.href = next();
      document.getElementById("signed-out").classList.remove("d-none");
      link.focus();
    } else {
      window.location.assign(next());
    }
  }
  document.addEventListener("crisisnotes:session-ended", signedOut);

  function showWarning(remaining) {
    var end = Date.now() + remaining * 1000;
    warning.classList.remove("d-none");
    clearInterval(tick);
    var update = function () { secondsEl.textContent = Math.max(0, Math.round((end - Date.now()) / 1000)); };
    update();
    tick = setInterval(update, 1000);
  }

  function answer(resp) {
    if (resp.status === 401) return { remaining: 0, timeout: 0 };
    if (!resp.ok) throw new Error("HTTP " + resp.status);
    return resp.json();
  }
  function plan(data) {
    var remaining = data.remaining;
    if (remaining <= 0) return signedOut();
    // A minute's warning (half the timeout when a clinic set it shorter than two minutes).
    var warnAt = Math.min(WARN, (data.timeout || 2 * WARN) / 2);
    if (remaining > warnAt) {
      warning.classList.add("d-none"); clearInterval(tick);
      schedule(remaining - warnAt);
    } else {
      showWarning(remaining);
      schedule(remaining + 1);  // just past the end, so the server has signed the session out
    }
  }
  function check() {
    fetch(statusUrl, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(answer).then(plan)
      .catch(function () { schedule(15); });  // offline: ask again soon; the server decides
  }
  function schedule(seconds) {
    clearTimeout(timer);
    timer = setTimeout(check, seconds * 1000);
  }

  document.getElementById("stay-signed-in").addEventListener("click", function () {
    fetch(keepaliveUrl, {
      method: "POST", credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRFToken": csrf() }
    }).then(answer).then(plan).catch(function () { schedule(5); });
  });
  // The page was written with the time left then (crisisnotes.accounts.idle.idle_context): the
  // timer starts from it, less the seconds since this navigation began, instead of a request at
  // every page load. A page shown again from the back/forward cache asks.
  // Only the server signs out: a page written with no time left asks it.
  var left = Number(body.dataset.idleRemaining) - Math.ceil(performance.now() / 1000);
  if (left > 0) {
    plan({ remaining: left, timeout: Number(body.dataset.idleTimeout) });
  } else {
    check();
  }
  window.addEventListener("pageshow", function (event) { if (event.persisted) check(); });
})();

/* A search box typed into before htmx was listening (the box has the focus as the page opens, so
 * a counselor types at once): htmx takes the text already there as the box's starting value, so
 * "input changed" never fires for it and no results come until the next key. Once htmx has
 * processed the page, a box whose text differs from what the server sent asks for its results. */
htmx.onLoad(function (root) {
  "use strict";
  var boxes = root.querySelectorAll ? root.querySelectorAll("input[type=search][hx-trigger]") : [];
  Array.prototype.forEach.call(boxes, function (box) {
    if (box.value !== box.defaultValue && /(^|,)\s*search\b/.test(box.getAttribute("hx-trigger"))) {
      htmx.trigger(box, "search");
    }
  });
});

/* A page of the app shown in place of this one, without loading a page: the answer of a
 * script's request carries the page (`html`, exactly as its GET gives it: server side,
 * `note_page_answer`), and its main content, title, stylesheets, body-level parts and scripts
 * take this page's place at its address. One request, no page load: the browser keeps this
 * document, its parsed stylesheets and its scripts (bench/README.md, docs/architecture.md).
 *   options.expect  a selector the new page's main content must hold, or it is not shown;
 *   options.push    a new history entry (a page opened) rather than this one's (the same page,
 *                   changed: the signed note). Back and Forward load what their entry's
 *                   address gives;
 *   options.before  runs just before the swap (note.js ends the draft page's listeners).
 * The promise settles once the page's own scripts have run (the event crisisnotes:page-shown
 * says so); it rejects, with nothing changed, when the page is not the one expected. */
var crisisnotesShowPage = (function () {
  "use strict";
  // The address of what this document shows. Back or Forward to an entry with another (one
  // pushed here, or, after a reload, one pushed by the document before it): that page, loaded.
  var shownAt = location.pathname + location.search;
  window.addEventListener("popstate", function () {
    if (location.pathname + location.search !== shownAt) window.location.reload();
  });
  function loadedUrls() {
    var loaded = {};
    document.querySelectorAll("script[src], link[rel=stylesheet]").forEach(function (el) {
      loaded[el.src || el.href] = true;
    });
    return loaded;
  }
  function settles(el) {
    return new Promise(function (done) { el.onload = el.onerror = done; });
  }
  return function (url, html, options) {
    options = options || {};
    var address = new URL(url, window.location.href).href;
    var next = new DOMParser().parseFromString(html || "", "text/html");
    var main = next.getElementById("main");
    if (!main || (options.expect && !main.querySelector(options.expect))) {
      return Promise.reject(new Error("not the page expected"));
    }
    var loaded = loadedUrls();
    // Its stylesheets first, applied before it shows (from the browser's cache, mostly).
    var sheets = [];
    next.head.querySelectorAll("link[rel=stylesheet]").forEach(function (link) {
      if (loaded[link.href]) return;
      var sheet = document.importNode(link, true);
      sheets.push(settles(sheet));
      document.head.appendChild(sheet);
    });
    // Its scripts this page has not run, in the order a load runs them: plain, then deferred
    // (read before its parts are moved into this page).
    var plain = [], deferred = [];
    next.querySelectorAll("script[src]").forEach(function (old) {
      if (loaded[old.src]) return;
      (old.defer ? deferred : plain).push(old.src);
    });
    return Promise.all(sheets).then(function () {
      if (options.before) options.before();
      document.title = next.title;
      var shown = document.adoptNode(main);  // moved, not copied: the parse is all it costs
      document.getElementById("main").replaceWith(shown);
      if (options.push) history.pushState(null, "", address);
      else history.replaceState(null, "", address);
      shownAt = location.pathname + location.search;
      // Its body-level parts this page lacks (the note's snippet list and menu), then its
      // scripts (a parsed document's scripts never run, and an added script is not deferred
      // by itself).
      var parts = [];
      Array.prototype.slice.call(next.body.children).forEach(function (el) {
        var code = el.tagName === "SCRIPT" && !/json/.test(el.type);  // data (JSON) is a part
        if (!code && el.id && el.id !== "main" && !document.getElementById(el.id)) {
          var part = document.adoptNode(el);
          document.body.appendChild(part);
          parts.push(part);
        }
      });
      if (window.htmx) {
        window.htmx.process(shown);
        parts.forEach(function (part) { window.htmx.process(part); });
      }
      var scripts = plain.concat(deferred).map(function (src) {
        var script = document.createElement("script");
        script.src = src;
        script.async = false;  // in that order
        var ran = settles(script);
        document.body.appendChild(script);
        return ran;
      });
      window.scrollTo(0, 0);
      return Promise.all(scripts).then(function () {
        // Where its scripts put no focus (a fresh note's first stage), its heading has it: a
        // screen reader announces the page that came.
        var heading = shown.querySelector("h1");
        var free = !document.activeElement || document.activeElement === document.body;
        if (heading && free) { heading.tabIndex = -1; heading.focus(); }
        document.dispatchEvent(new CustomEvent("crisisnotes:page-shown", { detail: { url: address } }));
      });
    });
  };
})();

/* A form marked `data-open-in-place` ("Start session", "New client: start a session now") is
 * sent by script and the page it opens is shown in place (above). The server answers every
 * success in JSON: the session started (its page and address), or only where to go next. A
 * refusal creates nothing: a 400 with an error is said by the form; any other answer (the form
 * with its errors, signed out) has the form posted as a plain form, for the answer a page
 * gets. A server error or no answer at all may come after the session started: nothing is
 * posted again by itself, and the counselor is told where to look first. */
(function () {
  "use strict";
  var gettext = window.gettext || function (s) { return s; };
  function failed() {
    return gettext("The session could not be opened here. It may have started anyway: look in My work before starting it again.");
  }
  function problem(form, text) {
    var box = form.querySelector("[data-open-problem]");
    if (!box) {
      box = document.createElement("div");
      box.className = "alert alert-danger mt-2 mb-0";
      box.setAttribute("role", "alert");
      box.setAttribute("data-open-problem", "");
      form.appendChild(box);
    }
    box.textContent = text;
  }
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || !form.matches || !form.matches("form[data-open-in-place]")) return;
    if (!window.fetch || !window.DOMParser || !history.pushState) return;
    event.preventDefault();
    var buttons = form.querySelectorAll("button, input[type=submit]");
    buttons.forEach(function (b) { b.disabled = true; });
    var token = form.querySelector("[name=csrfmiddlewaretoken]");
    fetch(form.action, {
      method: "POST",
      body: new URLSearchParams(new FormData(form)),
      credentials: "same-origin",
      redirect: "manual",
      headers: { "Accept": "application/json", "X-CSRFToken": token ? token.value : "" }
    }).then(function (resp) {
      var json = (resp.headers.get("Content-Type") || "").indexOf("application/json") === 0;
      if (resp.ok && json) {
        return resp.json().then(function (data) {
          if (!data.page) { window.location.assign(data.url); return; }
          return crisisnotesShowPage(data.url, data.page, { push: true, expect: "#note-form" })
            .catch(function () { window.location.assign(data.url); });
        });
      }
      if (resp.status >= 500) throw new Error("HTTP " + resp.status);
      if (resp.status === 400 && json) {
        return resp.json().then(function (data) {
          buttons.forEach(function (b) { b.disabled = false; });
          problem(form, data.error || failed());
        });
      }
      HTMLFormElement.prototype.submit.call(form);  // nothing was created: as a plain form
    }).catch(function () {
      buttons.forEach(function (b) { b.disabled = false; });
      problem(form, failed());
    });
  });
})();
