// Small enhancements shared by every page; each page works without them.
(function () {
  "use strict";

  // Copy buttons: <button data-copy="#id-of-input-or-textarea"> or data-copy-text="...".
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    // Plain-HTTP sites: the clipboard API is not offered; fall back to a selection copy.
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    try { document.execCommand("copy"); } finally { document.body.removeChild(area); }
    return Promise.resolve();
  }
  window.siteCopy = copyText;

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy], [data-copy-text]");
    if (!button) return;
    event.preventDefault();
    var text = button.getAttribute("data-copy-text");
    if (text === null) {
      var source = document.querySelector(button.getAttribute("data-copy"));
      text = source ? (source.value !== undefined ? source.value : source.textContent) : "";
    }
    copyText(text).then(function () {
      var label = button.textContent;
      button.textContent = "Copied";
      button.setAttribute("aria-live", "polite");
      setTimeout(function () { button.textContent = label; }, 1500);
    });
  });

  // Toggle forms (like, follow): <form data-toggle data-on="like" data-off="unlike"
  // data-label-on="Like" data-label-off="Liked"> with an `action` input and a
  // [data-count] element; posted in the background, the page stays where it is.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute("data-toggle") || !window.fetch) return;
    event.preventDefault();
    var button = form.querySelector("button[type=submit]");
    if (button) button.disabled = true;
    // getAttribute: `form.action` would be the form's input named "action", not its URL.
    fetch(form.getAttribute("action"), {
      method: "POST",
      body: new FormData(form),
      headers: { "Accept": "application/json" },
      credentials: "same-origin"
    }).then(function (response) {
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.json();
    }).then(function (state) {
      var action = form.querySelector("input[name=action]");
      action.value = state.active ? form.dataset.off : form.dataset.on;
      if (button) {
        button.textContent = state.active ? form.dataset.labelOff : form.dataset.labelOn;
        button.setAttribute("aria-pressed", state.active ? "true" : "false");
      }
      var count = form.dataset.countTarget ? document.querySelector(form.dataset.countTarget)
        : form.querySelector("[data-count]");
      if (count) count.textContent = state.count;
    }).catch(function () {
      // The plain way: post and come back (the prototype's submit, in case a control is
      // named "submit").
      HTMLFormElement.prototype.submit.call(form);
    }).finally(function () {
      if (button) button.disabled = false;
    });
  });
})();
