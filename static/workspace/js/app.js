/* Kaskad workspace behaviours. Everything here only improves pages that already work without it.
   Loaded with defer on every page; no inline scripts anywhere (CSP default-src 'self'). */
(function () {
  "use strict";

  // <select data-autosubmit> and <input data-autosubmit>: submit the form on change.
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.matches && el.matches("[data-autosubmit]") && el.form) {
      if (el.form.requestSubmit) el.form.requestSubmit(); else el.form.submit();
    }
  });

  // Ctrl/Cmd+Enter in a textarea[data-submit-on-ctrl-enter] sends its form.
  document.addEventListener("keydown", function (event) {
    var el = event.target;
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && el.matches &&
        el.matches("textarea[data-submit-on-ctrl-enter]") && el.form) {
      event.preventDefault();
      if (el.form.requestSubmit) el.form.requestSubmit(); else el.form.submit();
    }
  });

  // Polling (hx-trigger="every Ns" on an element with data-poll) runs only while the tab is visible;
  // a hidden tab skips its turns, and the next visible turn catches up through ?since=.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail && event.detail.elt;
    if (elt && elt.hasAttribute && elt.hasAttribute("data-poll") && document.visibilityState !== "visible") {
      event.preventDefault();
    }
  });

  // SMS part counter: textarea[data-sms-counter="<id of the output element>"].
  // Same rules as channels/sms_encoding.py: GSM-7 (extension characters count twice) 160/153 per
  // part, otherwise UCS-2 70/67 per part (characters outside the BMP count twice).
  var GSM = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  var GSM_EXT = "^{}\\[~]|€\f";
  function smsParts(text) {
    var septets = 0, gsm = true, units = 0;
    for (var i = 0; i < text.length; i++) {
      var ch = text.charAt(i);
      if (GSM.indexOf(ch) >= 0) septets += 1;
      else if (GSM_EXT.indexOf(ch) >= 0) septets += 2;
      else gsm = false;
    }
    units = text.length; // UTF-16 code units: a character outside the BMP is two
    if (!text.length) return { encoding: "GSM-7", length: 0, parts: 0, perPart: 160 };
    if (gsm) return { encoding: "GSM-7", length: septets, parts: septets <= 160 ? 1 : Math.ceil(septets / 153), perPart: septets <= 160 ? 160 : 153 };
    return { encoding: "UCS-2", length: units, parts: units <= 70 ? 1 : Math.ceil(units / 67), perPart: units <= 70 ? 70 : 67 };
  }
  window.kaskadSmsParts = smsParts;
  function updateCounter(textarea) {
    var out = document.getElementById(textarea.getAttribute("data-sms-counter"));
    if (!out) return;
    var r = smsParts(textarea.value);
    var template = out.getAttribute(r.parts === 1 ? "data-one" : "data-many") || "{length} · {parts} · {encoding}";
    out.textContent = template.replace("{length}", r.length).replace("{parts}", r.parts)
      .replace("{encoding}", r.encoding).replace("{per_part}", r.perPart);
  }
  document.addEventListener("input", function (event) {
    if (event.target.matches && event.target.matches("textarea[data-sms-counter]")) updateCounter(event.target);
  });
  function initCounters(root) {
    (root || document).querySelectorAll("textarea[data-sms-counter]").forEach(updateCounter);
  }

  // Charts: <canvas data-chart="bar|line|doughnut|stacked|hbar|hstacked" data-chart-source="<json script id>">
  // (hbar and hstacked lay the bars along the x axis, for long category names).
  // Colours come from CSS tokens, so the palette lives in app.css only.
  function token(name) { return getComputedStyle(document.documentElement).getPropertyValue(name).trim(); }
  var TONES = { ok: "--ok", info: "--info", warn: "--warn", danger: "--danger", neutral: "--gray-400", accent: "--accent", violet: "--violet-600" };
  function initCharts(root) {
    if (!window.Chart) return;
    (root || document).querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      if (canvas.dataset.drawn) return;
      var source = document.getElementById(canvas.dataset.chartSource);
      if (!source) return;
      var data = JSON.parse(source.textContent);
      var kind = canvas.dataset.chart;
      var horizontal = kind === "hbar" || kind === "hstacked";
      var stacked = kind === "stacked" || kind === "hstacked";
      data.datasets.forEach(function (ds, i) {
        var colour = token(TONES[ds.tone] || TONES.accent) || "#2f62e8";
        if (kind === "doughnut") {
          ds.backgroundColor = (ds.tones || []).map(function (t) { return token(TONES[t] || TONES.accent); });
        } else {
          ds.backgroundColor = colour; ds.borderColor = colour;
        }
        ds.borderWidth = kind === "line" ? 2 : 0; ds.pointRadius = 0; ds.tension = 0.25;
      });
      canvas.dataset.drawn = "1";
      new window.Chart(canvas, {
        type: stacked || horizontal ? "bar" : kind,
        data: data,
        options: {
          responsive: true, maintainAspectRatio: false, animation: false, indexAxis: horizontal ? "y" : "x",
          plugins: { legend: { display: data.datasets.length > 1 || kind === "doughnut", position: "bottom", labels: { boxWidth: 10 } } },
          scales: kind === "doughnut" ? {} : horizontal ? {
            x: { stacked: stacked, beginAtZero: true, ticks: { precision: 0 } },
            y: { stacked: stacked, grid: { display: false } },
          } : {
            x: { stacked: stacked, grid: { display: false } },
            y: { stacked: stacked, beginAtZero: true, ticks: { precision: 0 } },
          },
        },
      });
    });
  }

  function init(root) { initCounters(root); initCharts(root); }
  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:afterSettle", function (event) { init(event.detail.elt); });
})();
