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
