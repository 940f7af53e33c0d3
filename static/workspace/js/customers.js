/* The customer page's composer: show only the fields of the chosen channel (the subject for email,
   the part counter for SMS, templates for WhatsApp). Without JavaScript every field is shown. */
(function () {
  "use strict";
  function sync(select) {
    var form = select.form;
    if (!form) return;
    form.querySelectorAll("[data-channel-only]").forEach(function (el) {
      var wanted = el.getAttribute("data-channel-only").split(" ");
      el.hidden = wanted.indexOf(select.value) < 0;
    });
  }
  function init(root) {
    (root || document).querySelectorAll("select[data-channel-select]").forEach(sync);
  }
  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("select[data-channel-select]")) sync(event.target);
  });
  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:afterSettle", function (event) { init(event.detail.elt); });
})();
