// Models Dashboard: progressive enhancement only — every page works without this file.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function announce(text) {
    var region = document.getElementById("messages");
    if (!region) return;
    var note = document.createElement("div");
    note.className = "alert alert--info";
    note.textContent = text;
    region.replaceChildren(note);
  }

  function copy(text, button) {
    if (!navigator.clipboard) { announce("Copying needs a secure (https or localhost) page."); return; }
    navigator.clipboard.writeText(text).then(function () {
      button.setAttribute("data-copied", "");
      setTimeout(function () { button.removeAttribute("data-copied"); }, 1500);
      announce("Copied to the clipboard.");
    }, function () { announce("The browser refused to copy."); });
  }

  // The element that opened the dialog (a row's Delete button): focus goes back to it when the
  // dialog closes. The element itself is kept, so no selector is ever built from a model id.
  var opener = null;

  function dialog() { return document.getElementById("dialog"); }

  function closeDialog() {
    var d = dialog();
    if (d && d.open) d.close();
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy], [data-copy-from]");
    if (button) {
      var source = button.getAttribute("data-copy-from");
      copy(source ? document.getElementById(source).textContent : button.getAttribute("data-copy"), button);
      return;
    }
    var closer = event.target.closest("[data-close-dialog]");
    if (closer && dialog() && dialog().open) {
      event.preventDefault();
      closeDialog();
    }
    var trigger = event.target.closest("[hx-target='#dialog']");
    if (trigger && !trigger.closest("dialog")) opener = trigger;  // not the dialog's own form
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    var d = dialog();
    if (!d || event.detail.target !== d) return;
    if (!d.innerHTML.trim()) { closeDialog(); return; }
    if (!d.open) d.showModal();
    var field = d.querySelector("input:not([type=hidden]), button, a[href]");
    if (field) field.focus();
  });

  document.addEventListener("DOMContentLoaded", function () {
    var d = dialog();
    if (!d) return;
    d.addEventListener("close", function () {
      d.replaceChildren();
      if (opener && opener.isConnected) opener.focus();
      else { var search = document.getElementById("search"); if (search) search.focus(); }
    });
  });

  // The delete succeeded: close the dialog; the table reloads itself (see models-changed).
  document.addEventListener("models-changed", function () {
    closeDialog();
    var results = document.getElementById("results");
    var filters = document.getElementById("filters");
    if (results && filters && window.htmx) {
      htmx.ajax("GET", window.location.pathname + window.location.search, { target: "#results", swap: "innerHTML" });
    }
  });

  // A refused, out-of-date CSRF token: the server sends a fresh one with its answer, so that
  // trying again from this page (htmx requests and plain forms alike) works.
  document.addEventListener("csrf-token", function (event) {
    var token = event.detail && event.detail.token;
    if (typeof token !== "string" || !token) return;
    document.body.setAttribute("hx-headers", JSON.stringify({ "x-csrftoken": token }));
    document.querySelectorAll("input[name=csrfmiddlewaretoken]").forEach(function (input) { input.value = token; });
  });

  // The selection: the server keeps it (each tick posts with htmx); here only the boxes on the
  // page follow "select all on this page" and the header box follows the rows.
  function rowBoxes() { return document.querySelectorAll("input[data-select-row]"); }
  function headerBox() { return document.querySelector("input[data-select-all]"); }
  function setRows(checked) { rowBoxes().forEach(function (box) { box.checked = checked; }); }
  function syncHeader() {
    var header = headerBox();
    if (!header) return;
    var boxes = Array.prototype.slice.call(rowBoxes());
    header.checked = boxes.length > 0 && boxes.every(function (box) { return box.checked; });
  }
  document.addEventListener("change", function (event) {
    if (event.target.matches("input[data-select-all]")) setRows(event.target.checked);
    else if (event.target.matches("input[data-select-row]")) syncHeader();
  });
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-select-page]")) { setRows(true); syncHeader(); }
    if (event.target.closest("[data-select-clear]")) { setRows(false); syncHeader(); }
  });

  // A thin progress bar at the top of the page while any htmx request is in flight.
  var inFlight = 0;
  function loading(delta) {
    inFlight = Math.max(0, inFlight + delta);
    document.documentElement.classList.toggle("is-loading", inFlight > 0);
  }
  document.addEventListener("htmx:beforeRequest", function () { loading(1); });
  document.addEventListener("htmx:afterRequest", function () { loading(-1); });

  // "/" focuses the search box unless the user is typing somewhere.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
    var tag = (event.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select" || event.target.isContentEditable) return;
    var search = document.getElementById("search");
    if (search) { event.preventDefault(); search.focus(); search.select(); }
  });
})();
