// Profile pages: the follow button posts in the background and updates itself and the
// follower count; without JavaScript the same form posts and the server redirects back.
//
// site.js has a handler for every [data-toggle] form, but it posts to `form.action`, which
// for these forms is their <input name="action"> (a form's named controls shadow its
// properties), so it falls back to a full page post. This handler runs first, on the form
// itself, reads the attribute, and keeps the event from reaching site.js's.
(function () {
  "use strict";
  if (!window.fetch || !window.FormData) return;

  function follow(event) {
    var form = event.currentTarget;
    event.preventDefault();
    event.stopPropagation();
    var button = form.querySelector("button[type=submit]");
    if (button) button.disabled = true;
    fetch(form.getAttribute("action"), {
      method: "POST",
      body: new FormData(form),
      headers: { "Accept": "application/json" },
      credentials: "same-origin"
    }).then(function (response) {
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.json();
    }).then(function (state) {
      form.querySelector("input[name=action]").value = state.active ? form.dataset.off : form.dataset.on;
      if (button) {
        button.textContent = state.active ? form.dataset.labelOff : form.dataset.labelOn;
        button.setAttribute("aria-pressed", state.active ? "true" : "false");
      }
      var count = form.dataset.countTarget && document.querySelector(form.dataset.countTarget);
      if (count) count.textContent = state.count;
    }).catch(function () {
      HTMLFormElement.prototype.submit.call(form);  // the plain way: post and come back
    }).finally(function () {
      if (button) button.disabled = false;
    });
  }

  var forms = document.querySelectorAll("form.follow-form[data-toggle]");
  for (var i = 0; i < forms.length; i++) forms[i].addEventListener("submit", follow);
})();
