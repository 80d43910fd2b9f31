// Settings page enhancements: preview a chosen picture before it is uploaded. The forms
// work the same without this.
(function () {
  "use strict";
  document.querySelectorAll("input[type=file][data-preview]").forEach(function (input) {
    var preview = document.querySelector(input.getAttribute("data-preview"));
    if (!preview) return;
    var url = null;
    input.addEventListener("change", function () {
      if (url) URL.revokeObjectURL(url);
      var file = input.files && input.files[0];
      if (!file || !/^image\//.test(file.type)) {
        preview.hidden = true;
        url = null;
        return;
      }
      url = URL.createObjectURL(file);
      var img = preview.querySelector("img") || preview.appendChild(document.createElement("img"));
      img.alt = "The picture you chose, not uploaded yet";
      img.src = url;
      preview.hidden = false;
    });
  });
  // The one-time API key: selected on focus, ready to copy by keyboard.
  document.querySelectorAll("input[readonly]#api-key-value").forEach(function (input) {
    input.addEventListener("focus", function () { input.select(); });
  });
})();
