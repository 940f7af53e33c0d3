/* Inbox behaviours; the page works without them (a select inserts canned responses, links move
   between conversations). Canned responses: type "/" and a shortcode in the reply box.
   Alt+J / Alt+K: next / previous conversation in the list. */
(function () {
  "use strict";

  var canned = null;
  function cannedData() {
    if (canned === null) {
      var source = document.getElementById("canned-data");
      canned = source ? JSON.parse(source.textContent) : [];
    }
    return canned;
  }

  // The "/word" just before the caret, if any.
  function slashToken(textarea) {
    var before = textarea.value.slice(0, textarea.selectionStart);
    var match = /(^|\s)\/([\w-]*)$/.exec(before);
    return match ? { start: before.length - match[2].length - 1, query: match[2].toLowerCase() } : null;
  }

  var state = { items: [], active: 0, token: null, textarea: null };

  function list() { return document.getElementById("canned-suggest"); }

  function close() {
    var ul = list();
    if (ul) { ul.classList.add("hidden"); ul.textContent = ""; }
    state.items = []; state.token = null;
    if (state.textarea) state.textarea.removeAttribute("aria-activedescendant");
  }

  function render() {
    var ul = list();
    if (!ul) return;
    ul.textContent = "";
    state.items.forEach(function (item, i) {
      var li = document.createElement("li");
      li.id = "canned-opt-" + i;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", i === state.active ? "true" : "false");
      var code = document.createElement("code");
      code.textContent = "/" + item.shortcode;
      li.appendChild(code);
      li.appendChild(document.createTextNode(item.body.length > 80 ? item.body.slice(0, 80) + "…" : item.body));
      li.addEventListener("mousedown", function (event) { event.preventDefault(); insert(i); });
      ul.appendChild(li);
    });
    ul.classList.toggle("hidden", state.items.length === 0);
    if (state.textarea && state.items.length) state.textarea.setAttribute("aria-activedescendant", "canned-opt-" + state.active);
  }

  function insert(i) {
    var item = state.items[i], textarea = state.textarea, token = state.token;
    if (!item || !textarea || !token) return;
    var value = textarea.value, end = textarea.selectionStart;
    textarea.value = value.slice(0, token.start) + item.body + value.slice(end);
    var caret = token.start + item.body.length;
    textarea.setSelectionRange(caret, caret);
    close();
    textarea.dispatchEvent(new Event("input", { bubbles: true })); // the SMS counter follows
    textarea.focus();
  }

  document.addEventListener("input", function (event) {
    var el = event.target;
    if (!el.matches || !el.matches("textarea[data-canned-input]")) return;
    var token = slashToken(el);
    if (!token) { close(); return; }
    state.textarea = el; state.token = token; state.active = 0;
    state.items = cannedData().filter(function (c) { return c.shortcode.toLowerCase().indexOf(token.query) === 0; }).slice(0, 8);
    render();
  });

  document.addEventListener("keydown", function (event) {
    var el = event.target;
    if (el.matches && el.matches("textarea[data-canned-input]") && state.items.length) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        var n = state.items.length;
        state.active = (state.active + (event.key === "ArrowDown" ? 1 : n - 1)) % n;
        render();
        return;
      }
      if ((event.key === "Enter" || event.key === "Tab") && !event.ctrlKey && !event.metaKey) {
        event.preventDefault();
        insert(state.active);
        return;
      }
      if (event.key === "Escape") { close(); return; }
    }
    // Alt+J / Alt+K: next / previous conversation.
    if (event.altKey && !event.ctrlKey && (event.code === "KeyJ" || event.code === "KeyK")) {
      var links = Array.prototype.slice.call(document.querySelectorAll("[data-conv-link]"));
      if (!links.length) return;
      var current = links.findIndex(function (a) { return a.hasAttribute("aria-current"); });
      var next = event.code === "KeyJ" ? current + 1 : current - 1;
      if (current === -1) next = 0;
      if (next >= 0 && next < links.length) { event.preventDefault(); window.location.assign(links[next].href); }
    }
  });

  document.addEventListener("focusout", function (event) {
    if (event.target.matches && event.target.matches("textarea[data-canned-input]")) close();
  });

  // Choosing a date and time for the snooze picks "Until…".
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.id === "snooze-until" && el.value && el.form) {
      var custom = el.form.querySelector("input[name=preset][value=custom]");
      if (custom) custom.checked = true;
    }
  });
})();
