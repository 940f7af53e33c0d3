// Planning pages: the board's Print button (hidden without JavaScript, where the browser's own
// print command does the same).
(function () {
  "use strict";
  function init() {
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () { window.print(); });
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
