// Album forms: the password field shows only for password albums, and the "add uploads"
// page gets a select-all box. Both forms work the same without this file.
(function () {
  "use strict";

  var passwordField = document.querySelector("[data-password-field]");
  var choices = document.querySelectorAll("[data-privacy-choice]");
  function syncPassword() {
    var chosen = document.querySelector("[data-privacy-choice]:checked");
    var wanted = chosen && chosen.value === "password";
    passwordField.hidden = !wanted;
    var input = passwordField.querySelector("input");
    if (input && !wanted) input.value = "";
  }
  if (passwordField && choices.length) {
    choices.forEach(function (choice) { choice.addEventListener("change", syncPassword); });
    syncPassword();
  }

  var selectAll = document.querySelector("[data-select-all]");
  if (selectAll) {
    var picks = document.querySelectorAll("[data-pick]");
    selectAll.closest("[data-select-all-wrap]").hidden = false;
    selectAll.addEventListener("change", function () {
      picks.forEach(function (pick) { pick.checked = selectAll.checked; });
    });
    picks.forEach(function (pick) {
      pick.addEventListener("change", function () {
        selectAll.checked = Array.prototype.every.call(picks, function (p) { return p.checked; });
      });
    });
  }
})();
