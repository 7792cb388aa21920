/* C-SSRS skip logic and risk on the note page, the same rules as safety/cssrs.py (the server is
   the authority and rejects what this would have prevented). Skipped questions are hidden and
   their answers cleared, so they are stored as null. No dependencies. */
(function () {
  "use strict";
  // Django's JavaScript catalogue (/jsi18n/, which base.html loads first) translates; the
  // English text stands where it is absent (a test page that loads this file alone).
  var gettext = window.gettext || function (s) { return s; };
  var ngettext = window.ngettext || function (s, p, n) { return n === 1 ? s : p; };
  var interpolate = window.interpolate || function (fmt, obj) {
    return fmt.replace(/%\((\w+)\)s/g, function (m, name) { return String(obj[name]); });
  };
  var KEYS = ["q1", "q2", "q3", "q4", "q5", "q6", "q6b"];
  var LABELS = { none: gettext("None"), low: gettext("Low"), moderate: gettext("Moderate"), high: gettext("High") };
  var LEVELS = ["none", "low", "moderate", "high"];

  function asked(a, version) {
    var list = ["q1", "q2"];
    if (a.q2 === true) list.push("q3", "q4", "q5", "q6");
    else if (a.q2 === false) list.push("q6");
    if (list.indexOf("q6") >= 0 && a.q6 === true && version === "recent") list.push("q6b");
    return list;
  }

  function riskOfComplete(a, version) {
    if (version === "since_last_contact") {
      if (a.q4 || a.q5 || a.q6) return "high";
      if (a.q3) return "moderate";
    } else {
      if (a.q4 || a.q5 || (a.q6 && a.q6b)) return "high";
      if (a.q3 || a.q6) return "moderate";
    }
    if (a.q1 || a.q2) return "low";
    return "none";
  }

  function outcomes(a, version, found) {
    var missing = asked(a, version).filter(function (k) { return a[k] === null; });
    if (!missing.length) { found[riskOfComplete(a, version)] = true; return; }
    [true, false].forEach(function (v) {
      var next = Object.assign({}, a); next[missing[0]] = v; outcomes(next, version, found);
    });
  }

  /* The risk as soon as every way of finishing the screen agrees; null until then. */
  function risk(a, version) {
    var found = {}; outcomes(a, version, found);
    var levels = Object.keys(found);
    return levels.length === 1 ? levels[0] : null;
  }

  /* The lowest risk any way of finishing could still give (items 1-3 yes: at least moderate
     before item 4 is answered). Display only: the stored risk is the determined one. */
  function floor(a, version) {
    var found = {}; outcomes(a, version, found);
    for (var i = 0; i < LEVELS.length; i++) if (found[LEVELS[i]]) return LEVELS[i];
    return null;
  }

  /* The same text as safety.cssrs.cssrs_risk_text. */
  function riskText(a, version) {
    var level = risk(a, version);
    if (level) return LABELS[level];
    var low = floor(a, version);
    if (low && low !== "none") return interpolate(gettext("at least %(level)s so far"), { level: LABELS[low] }, true);
    return gettext("not determined yet");
  }

  function init(root) {
    if (root.dataset.cssrsReady) return;
    root.dataset.cssrsReady = "1";
    var rows = {};
    root.querySelectorAll("[data-cssrs-item]").forEach(function (row) { rows[row.dataset.cssrsItem] = row; });
    var output = root.querySelector("[data-cssrs-risk]");
    var hint = root.querySelector("[data-formulation-hint]");

    function radios(key) { return rows[key] ? rows[key].querySelectorAll("input[type=radio]") : []; }
    function value(key) {
      var checked = null;
      radios(key).forEach(function (r) { if (r.checked) checked = r.value === "yes"; });
      return checked;
    }
    function version() {
      var v = root.querySelector("[data-cssrs-version] input:checked");
      return v ? v.value : "recent";
    }

    function update() {
      var ver = version(), a = {}, changed = true;
      KEYS.forEach(function (k) { a[k] = value(k); });
      // Clearing an item can skip further items (2 → 6 → 6b): repeat until stable.
      while (changed) {
        changed = false;
        var ask = asked(a, ver);
        KEYS.forEach(function (k) {
          var show = ask.indexOf(k) >= 0;
          if (rows[k]) rows[k].hidden = !show;
          if (!show && a[k] !== null) {
            radios(k).forEach(function (r) { r.checked = false; });
            a[k] = null; changed = true;
          }
        });
      }
      var level = risk(a, ver);
      if (output) {
        output.textContent = riskText(a, ver);
        output.className = "risk-" + (level || "pending");
        output.dataset.level = level || "";
        output.dataset.floor = floor(a, ver) || "";
      }
      var anyYes = KEYS.some(function (k) { return a[k] === true; });
      // The texts are the server's (data-text-yes / data-text-no on the elements).
      var pick = function (el) { return el.getAttribute(anyYes ? "data-text-yes" : "data-text-no") || el.textContent; };
      if (hint) hint.textContent = pick(hint);
      // The wording of the chosen version (safety/cssrs.py renders both on each row).
      root.querySelectorAll("[data-cssrs-text], [data-cssrs-window], [data-cssrs-examples]").forEach(function (el) {
        var text = el.getAttribute("data-text-" + ver);
        if (text) el.textContent = text;
      });
      // SAFE-T: one line while every answer is No; opens by itself on the first Yes.
      var details = root.querySelector("[data-formulation]");
      var summary = root.querySelector("[data-formulation-summary]");
      if (summary) summary.textContent = pick(summary);
      if (details && anyYes && !details.open) details.open = true;
    }

    root.addEventListener("change", function (event) {
      var t = event.target;
      if (t && t.closest && (t.closest("[data-cssrs-item]") || t.closest("[data-cssrs-version]"))) update();
    });
    // "Every question asked: No" — one key for the all-No screen: each asked, unanswered item
    // gets No in order (2 = No brings 6 in, which gets No too); a Yes already given is kept.
    var allNo = root.querySelector("[data-cssrs-all-no]");
    if (allNo) {
      allNo.hidden = false;
      allNo.addEventListener("click", function () {
        for (var guard = 0; guard < KEYS.length; guard++) {
          var next = KEYS.filter(function (k) { return rows[k] && !rows[k].hidden && value(k) === null; })[0];
          if (!next) break;
          var no = rows[next].querySelector("input[type=radio][value=no]");
          no.checked = true;
          no.dispatchEvent(new Event("change", { bubbles: true }));
        }
      });
    }
    update();
  }

  // The pure rules, for the browser test that checks them against safety/cssrs.py.
  window.crisisnotesCssrs = { asked: asked, risk: risk, floor: floor, riskText: riskText };

  function initAll() { document.querySelectorAll("[data-cssrs-root]").forEach(init); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", initAll);
  else initAll();
  document.addEventListener("htmx:afterSwap", initAll);
})();
