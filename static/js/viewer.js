// The viewer page: select a code when its field gets focus, and ←/→ move through the album.
(function () {
  "use strict";

  document.addEventListener("focusin", function (event) {
    var field = event.target;
    if (field.hasAttribute && field.hasAttribute("data-select-on-focus")) field.select();
  });

  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
    var target = event.target;
    // Never steal arrows from a field, a player or anything else that uses them.
    if (target.closest && target.closest("input, textarea, select, video, [contenteditable]")) return;
    var rel = event.key === "ArrowLeft" ? "prev" : event.key === "ArrowRight" ? "next" : null;
    if (!rel) return;
    var link = document.querySelector(".viewer-neighbours a[rel=" + rel + "]");
    if (link) window.location.href = link.href;
  });
})();
