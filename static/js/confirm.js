// One confirm step before an irreversible action (crisisnotes/confirm.py has the rule).
// A submit button with data-confirm="Question?" opens a native <dialog>; its confirm button
// has the focus, so Enter confirms and Escape cancels (the focus then returns to the button).
// On confirm the form gets confirmed=1 and is submitted with that button, so other scripts
// listening for "submit" (note.js waits for a running autosave) see a normal submission.
(function () {
  "use strict";
  // Django's JavaScript catalogue (/jsi18n/, which base.html loads first) translates; the
  // English text stands where it is absent (a test page that loads this file alone).
  var gettext = window.gettext || function (s) { return s; };
  var ngettext = window.ngettext || function (s, p, n) { return n === 1 ? s : p; };
  var interpolate = window.interpolate || function (fmt, obj) {
    return fmt.replace(/%\((\w+)\)s/g, function (m, name) { return String(obj[name]); });
  };
  var dialog = null;
  var pending = null;

  function build() {
    dialog = document.createElement("dialog");
    dialog.id = "confirm-dialog";
    dialog.className = "border rounded shadow p-3";
    dialog.style.maxWidth = "32rem";
    dialog.setAttribute("aria-labelledby", "confirm-dialog-title");
    dialog.setAttribute("aria-describedby", "confirm-dialog-text");
    dialog.innerHTML =
      '<form method="dialog">' +
      '<h2 class="h5" id="confirm-dialog-title"></h2>' +
      '<p id="confirm-dialog-text"></p>' +
      '<div class="d-flex gap-2 justify-content-end">' +
      '<button type="submit" value="cancel" class="btn btn-outline-secondary"></button>' +
      '<button type="submit" value="confirm" class="btn btn-primary" data-confirm-ok></button>' +
      "</div></form>";
    dialog.querySelector("button[value=cancel]").textContent = gettext("Cancel");
    document.body.appendChild(dialog);
    dialog.addEventListener("close", function () {
      // The close event is queued: after Escape, an Enter at once may open the dialog again
      // before the first closing's event arrives. That event is not this opening's answer
      // (taken as one, it dropped the question, and the confirm then did nothing).
      if (dialog.open) return;
      var button = pending;
      pending = null;
      if (!button) return;
      if (dialog.returnValue === "confirm") proceed(button);
      else button.focus();
    });
  }

  function proceed(button) {
    var form = button.form;
    var marker = form.querySelector("input[type=hidden][name=confirmed]");
    if (!marker) {
      marker = document.createElement("input");
      marker.type = "hidden";
      marker.name = "confirmed";
      form.appendChild(marker);
    }
    marker.value = "1";
    form.requestSubmit(button);
  }

  document.addEventListener(
    "click",
    function (event) {
      var button = event.target.closest("button[data-confirm], input[type=submit][data-confirm]");
      if (!button || !button.form || button.disabled) return;
      if (typeof HTMLDialogElement !== "function") return; // no <dialog>: the server asks
      event.preventDefault();
      if (!dialog) build();
      dialog.querySelector("#confirm-dialog-title").textContent = button.dataset.confirm;
      dialog.querySelector("#confirm-dialog-text").textContent = button.dataset.confirmDetail || "";
      var ok = dialog.querySelector("[data-confirm-ok]");
      ok.textContent = button.dataset.confirmButton || button.textContent.trim();
      dialog.returnValue = "";
      pending = button;
      dialog.showModal();
      ok.focus();
    },
    true
  );
  // Built ahead, when the browser is idle, on pages that ask (loaded, or shown in place by
  // session.js): adding it to the page restyles the page around it, a cost the click that
  // opens it then no longer pays.
  function buildAhead() {
    if (!dialog && document.querySelector("button[data-confirm], input[type=submit][data-confirm]")) build();
  }
  if (typeof HTMLDialogElement === "function") {
    var idle = window.requestIdleCallback || function (fn) { return setTimeout(fn, 200); };
    var ahead = function () { idle(buildAhead, { timeout: 2000 }); };
    window.addEventListener("load", ahead);
    document.addEventListener("crisisnotes:page-shown", ahead);
  }
})();
