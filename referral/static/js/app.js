// Progressive enhancement only: every page works without this file.
"use strict";

document.documentElement.classList.add("js");

// After following the skip link, move keyboard focus into the main region.
document.addEventListener("click", function (event) {
  var link = event.target.closest && event.target.closest("a.skip-link");
  if (!link) return;
  var main = document.getElementById("main");
  if (main) main.focus();
});

// Print links on referral sheets.
document.addEventListener("click", function (event) {
  var link = event.target.closest && event.target.closest("[data-print]");
  if (!link) return;
  event.preventDefault();
  window.print();
});

// A form marked data-submit-once cannot be sent twice by a double click.
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (!form.hasAttribute || !form.hasAttribute("data-submit-once")) return;
  if (form.dataset.sent === "1") {
    event.preventDefault();
    return;
  }
  form.dataset.sent = "1";
  form.querySelectorAll("button[type=submit]").forEach(function (b) {
    b.setAttribute("aria-disabled", "true");
  });
});

// Intake drafts: save on the server while the screener types, and keep a copy in this tab
// (sessionStorage) until the server has it, so an expired session or a lost connection
// loses nothing: the copy is put back when the section is shown again.
(function () {
  var form = document.querySelector("form[data-autosave]");
  if (!form) return;
  var url = form.getAttribute("data-autosave");
  var storageKey = "ruta-draft:" + form.getAttribute("data-draft") + ":" + form.getAttribute("data-section");
  var status = document.getElementById("autosave-status");
  var timer = null;
  var messages = {
    es: { saved: "Borrador guardado.", failed: "No se pudo guardar en el servidor; lo escrito se conserva en esta pestaña.", restored: "Se recuperó lo que había escrito antes de perder la conexión o la sesión." },
    en: { saved: "Draft saved.", failed: "Could not save to the server; what you typed is kept in this tab.", restored: "What you typed before the connection or session was lost has been restored." }
  };
  var lang = document.documentElement.lang === "en" ? "en" : "es";

  function say(key) {
    if (status) status.textContent = messages[lang][key];
  }

  function fields() {
    var data = new FormData(form);
    data.delete("csrf_token");
    var pairs = [];
    data.forEach(function (value, name) { pairs.push([name, value]); });
    return pairs;
  }

  // The copy records which server version it was typed over; it is put back only while
  // the server still has that version (nothing newer was saved since).
  function keep() {
    var copy = { basedOn: form.getAttribute("data-saved-at"), fields: fields() };
    try { sessionStorage.setItem(storageKey, JSON.stringify(copy)); } catch (e) { /* private mode */ }
  }

  function restore() {
    var saved;
    try { saved = JSON.parse(sessionStorage.getItem(storageKey) || "null"); } catch (e) { saved = null; }
    if (!saved || saved.basedOn !== form.getAttribute("data-saved-at")) {
      try { sessionStorage.removeItem(storageKey); } catch (e) { /* ignore */ }
      return false;
    }
    var values = {};
    saved.fields.forEach(function (pair) { (values[pair[0]] = values[pair[0]] || []).push(pair[1]); });
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.name === "csrf_token" || el.type === "submit") return;
      var v = values[el.name] || [];
      if (el.type === "checkbox" || el.type === "radio") {
        el.checked = v.indexOf(el.value) !== -1;
      } else if (el.tagName === "SELECT" && el.multiple) {
        Array.prototype.forEach.call(el.options, function (o) { o.selected = v.indexOf(o.value) !== -1; });
      } else if (v.length) {
        el.value = v[0];
      }
    });
    return true;
  }

  function save() {
    var body = new URLSearchParams(fields());
    body.append("_section", form.getAttribute("data-section"));
    var token = form.querySelector("input[name=csrf_token]");
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      redirect: "error",
      headers: { "X-CSRFToken": token ? token.value : "", "Content-Type": "application/x-www-form-urlencoded" },
      body: body.toString()
    }).then(function (response) {
      if (!response.ok) throw new Error(String(response.status));
      return response.json();
    }).then(function (answer) {
      form.setAttribute("data-saved-at", answer.at);
      try { sessionStorage.removeItem(storageKey); } catch (e) { /* ignore */ }
      say("saved");
    }).catch(function () { say("failed"); });
  }

  function changed() {
    keep();
    clearTimeout(timer);
    timer = setTimeout(save, 1500);
  }

  if (restore()) {
    say("restored");
    save().then(function () { say("restored"); });
  }
  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  form.addEventListener("submit", keep);
})();
