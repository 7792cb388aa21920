/* A signed (locked) note's page: whatever this browser kept of the note's drafts is now in the
 * record (or in a conflict copy already shown), so no client text is left lying in the browser.
 * This page loads this alone, not note.js (the draft page's ~50 KB of autosave, shortcuts and
 * sign rules, none of which a locked note has).
 * The keys are note.js's: crisisnotes:u<user>:note:<id>:… (backups) and
 * crisisnotes:u<user>:conflict:<id> (the copy kept by "load the latest"). */
(function () {
  "use strict";
  var locked = document.getElementById("note-locked");
  if (!locked) return;
  var NS = "crisisnotes:u" + (document.body.dataset.userId || "0") + ":";
  var prefixes = [NS + "note:" + locked.dataset.noteId + ":", NS + "conflict:" + locked.dataset.noteId];
  for (var j = localStorage.length - 1; j >= 0; j--) {
    var name = localStorage.key(j) || "";
    if (prefixes.some(function (p) { return name.indexOf(p) === 0; })) localStorage.removeItem(name);
  }
})();
