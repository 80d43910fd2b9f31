// The upload widget: files from the picker, drag-and-drop or the clipboard, and URLs, in a
// queue; each one its own request to /upload/json with a progress bar, cancel and retry;
// links and embed codes as each ends. Without this script the form still uploads one file.
(function () {
  "use strict";

  var root = document.querySelector("[data-upload]");
  if (!root || !window.FormData || !window.XMLHttpRequest) return;

  var form = root.querySelector("[data-upload-form]");
  var input = root.querySelector("#upload-file");
  var urlsBox = root.querySelector("#upload-urls");
  var queueList = root.querySelector("[data-queue]");
  var template = root.querySelector("[data-item-template]");
  var statusLine = root.querySelector("[data-status]");
  var csrf = form.querySelector("[name=csrfmiddlewaretoken]").value;
  var endpoint = root.dataset.endpoint;
  var maxBytes = parseInt(root.dataset.maxBytes, 10) || 0;
  var items = [];
  var serial = 0;
  var CONCURRENT = 2;

  root.classList.add("js-on");
  root.querySelectorAll("[data-js-only]").forEach(function (el) { el.hidden = false; });
  input.tabIndex = -1;  // hidden: the "Choose files" button stands in for it
  root.querySelector("[data-pick]").addEventListener("click", function () { input.click(); });

  function $(item, name) { return item.el.querySelector("[data-" + name + "]"); }

  function sizeText(bytes) {
    if (bytes < 1024) return bytes + " B";
    var units = ["KB", "MB", "GB"], value = bytes, i = -1;
    do { value /= 1024; i++; } while (value >= 1024 && i < units.length - 1);
    return value.toFixed(1).replace(/\.0$/, "") + " " + units[i];
  }

  function setState(item, state, text) {
    item.state = state;
    item.el.dataset.state = state;
    $(item, "state").textContent = text;
    $(item, "cancel").hidden = state !== "uploading";
    $(item, "retry").hidden = state !== "failed" && state !== "cancelled";
    $(item, "remove").hidden = state === "uploading";
    $(item, "title").disabled = state === "uploading" || state === "done";
  }

  function addItem(source) {
    var isFile = typeof source !== "string";
    var el = template.content.firstElementChild.cloneNode(true);
    var item = { el: el, source: source, xhr: null };
    var id = "upload-item-" + (++serial);
    var name = isFile ? (source.name || "pasted image") : source;
    $(item, "name").textContent = name;
    $(item, "size").textContent = isFile ? sizeText(source.size) : "URL";
    $(item, "title-label").htmlFor = id;
    $(item, "title-label").textContent = "Title of " + name;
    $(item, "title").id = id;
    if (isFile && /^image\//.test(source.type) && window.URL) {
      var img = document.createElement("img");
      img.alt = "";
      img.src = URL.createObjectURL(source);
      img.onload = function () { URL.revokeObjectURL(img.src); };
      el.querySelector(".upload-item-thumb").appendChild(img);
    }
    $(item, "cancel").addEventListener("click", function () { if (item.xhr) item.xhr.abort(); });
    $(item, "retry").addEventListener("click", function () { setState(item, "queued", "Waiting"); pump(); });
    $(item, "remove").addEventListener("click", function () {
      items.splice(items.indexOf(item), 1);
      el.remove();
      queueList.hidden = items.length === 0;
      refreshAll();
    });
    items.push(item);
    queueList.appendChild(el);
    queueList.hidden = false;
    setState(item, "ready", "Ready");
    if (isFile && maxBytes && source.size > maxBytes) {
      fail(item, "This file is larger than " + sizeText(maxBytes) + ".");
      $(item, "retry").hidden = true;
    }
  }

  function addFiles(list) {
    for (var i = 0; i < list.length; i++) addItem(list[i]);
    setStatus(items.length ? "Press Upload to send " + pending().length + " file(s)." : "");
  }

  function pending() { return items.filter(function (i) { return i.state === "ready"; }); }
  function setStatus(text) { statusLine.textContent = text; }

  function fail(item, message) {
    setState(item, "failed", "Failed");
    var error = $(item, "error");
    error.textContent = message;
    error.hidden = false;
  }

  function option(name) {
    var field = form.elements[name];
    if (!field) return "";
    if (field.type === "checkbox") return field.checked ? "1" : "0";
    return field.value;
  }

  function send(item) {
    var data = new FormData();
    data.append("source", item.source);
    data.append("title", $(item, "title").value || option("title"));
    ["description", "tags", "album_id", "category_id", "nsfw", "expiration"].forEach(function (name) {
      var value = option(name);
      if (value !== "") data.append(name, value);
    });
    var xhr = new XMLHttpRequest();
    var bar = $(item, "progress");
    item.xhr = xhr;
    $(item, "error").hidden = true;
    bar.value = 0;
    setState(item, "uploading", "Uploading…");
    xhr.upload.onprogress = function (event) {
      if (!event.lengthComputable) return;
      bar.value = Math.round(event.loaded / event.total * 100);
      if (event.loaded >= event.total) $(item, "state").textContent = "Processing…";
    };
    xhr.onload = function () {
      var body = null;
      try { body = JSON.parse(xhr.responseText); } catch (e) { body = null; }
      item.xhr = null;
      if (xhr.status === 200 && body && body.image) {
        bar.value = bar.max;
        done(item, body);
      } else {
        var message = body && body.error && body.error.message;
        fail(item, message || "The server answered " + xhr.status + ".");
      }
      pump();
    };
    xhr.onerror = function () { item.xhr = null; fail(item, "Network error."); pump(); };
    xhr.onabort = function () { item.xhr = null; setState(item, "cancelled", "Cancelled"); pump(); };
    xhr.open("POST", endpoint);
    xhr.setRequestHeader("X-CSRFToken", csrf);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.send(data);
  }

  function pump() {
    var running = items.filter(function (i) { return i.state === "uploading"; }).length;
    items.forEach(function (item) {
      if (item.state === "queued" && running < CONCURRENT) { running++; send(item); }
    });
    var counts = { done: 0, failed: 0, waiting: 0 };
    items.forEach(function (i) {
      if (i.state === "done") counts.done++;
      else if (i.state === "failed") counts.failed++;
      else if (i.state === "queued" || i.state === "uploading") counts.waiting++;
    });
    if (counts.waiting) setStatus("Uploading… " + counts.done + " of " + (counts.done + counts.waiting + counts.failed) + " done.");
    else if (counts.done || counts.failed) setStatus(counts.done + " uploaded" + (counts.failed ? ", " + counts.failed + " failed." : "."));
  }

  function done(item, body) {
    item.codes = body.codes;
    setState(item, "done", "Done");
    var image = body.image;
    $(item, "name").innerHTML = "";
    var link = document.createElement("a");
    link.href = image.url_viewer;
    link.textContent = image.title || image.filename || "Uploaded";
    $(item, "name").appendChild(link);
    if (!item.el.querySelector(".upload-item-thumb img") && image.thumb && image.thumb.url) {
      var img = document.createElement("img");
      img.alt = "";
      img.src = image.thumb.url;
      item.el.querySelector(".upload-item-thumb").appendChild(img);
    }
    var box = $(item, "codes");
    var groups = {};
    body.codes.forEach(function (code, n) {
      var group = groups[code.group];
      if (!group) {
        group = groups[code.group] = document.createElement("details");
        group.className = "upload-code-group";
        group.open = code.group === "Links";
        var summary = document.createElement("summary");
        summary.textContent = code.group;
        group.appendChild(summary);
        box.appendChild(group);
      }
      var id = item.el.querySelector("[data-title]").id + "-code-" + n;
      var row = document.createElement("div");
      row.className = "upload-code";
      row.innerHTML = '<label></label><div class="upload-code-row"><input type="text" readonly>' +
        '<button type="button" class="btn btn-small">Copy</button></div>';
      row.querySelector("label").textContent = code.label;
      row.querySelector("label").htmlFor = id;
      row.querySelector("input").id = id;
      row.querySelector("input").value = code.value;
      row.querySelector("input").dataset.code = code.label;
      row.querySelector("button").setAttribute("data-copy", "#" + id);
      row.querySelector("button").setAttribute("aria-label", "Copy " + code.label);
      group.appendChild(row);
    });
    box.hidden = false;
    refreshAll();
  }

  // "Copy all": one kind of code (say BBCode full linked) of every finished file.
  var allBox = root.querySelector("[data-all]");
  var allKind = root.querySelector("[data-all-kind]");
  var allText = root.querySelector("[data-all-text]");
  function refreshAll() {
    var finished = items.filter(function (i) { return i.state === "done"; });
    allBox.hidden = finished.length === 0;
    if (!finished.length) return;
    if (!allKind.options.length) {
      finished[0].codes.forEach(function (code) {
        if (code.label === "Delete link") return;
        allKind.appendChild(new Option(code.label, code.label));
      });
    }
    var kind = allKind.value;
    allText.value = finished.map(function (i) {
      var found = i.codes.filter(function (c) { return c.label === kind; })[0];
      return found ? found.value : "";
    }).filter(Boolean).join("\n");
  }
  allKind.addEventListener("change", refreshAll);

  input.addEventListener("change", function () {
    addFiles(input.files);
    input.value = "";
  });

  var drop = root.querySelector("[data-drop]");
  ["dragenter", "dragover"].forEach(function (type) {
    root.addEventListener(type, function (event) {
      event.preventDefault();
      drop.classList.add("is-over");
    });
  });
  root.addEventListener("dragleave", function (event) {
    if (!root.contains(event.relatedTarget)) drop.classList.remove("is-over");
  });
  root.addEventListener("drop", function (event) {
    event.preventDefault();
    drop.classList.remove("is-over");
    if (event.dataTransfer && event.dataTransfer.files.length) addFiles(event.dataTransfer.files);
  });

  // Images pasted anywhere on the page join the queue (text pastes are left alone).
  document.addEventListener("paste", function (event) {
    var files = [];
    var list = (event.clipboardData && event.clipboardData.items) || [];
    for (var i = 0; i < list.length; i++) {
      if (list[i].kind === "file" && /^image\//.test(list[i].type)) {
        var file = list[i].getAsFile();
        if (file) files.push(file);
      }
    }
    if (!files.length) return;
    event.preventDefault();
    addFiles(files);
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (urlsBox) {
      urlsBox.value.split(/\r?\n/).forEach(function (line) { if (line.trim()) addItem(line.trim()); });
      urlsBox.value = "";
    }
    var ready = pending();
    if (!ready.length) {
      setStatus(items.length ? "Nothing new to upload." : "Add files or URLs first.");
      return;
    }
    ready.forEach(function (item) { setState(item, "queued", "Waiting"); });
    pump();
  });

  // A new album, made on the spot and picked in the album list.
  var albumToggle = root.querySelector("[data-album-toggle]");
  if (albumToggle) {
    var albumBox = root.querySelector("[data-new-album]");
    var albumError = root.querySelector("[data-album-error]");
    albumToggle.addEventListener("click", function () {
      albumBox.hidden = !albumBox.hidden;
      albumToggle.setAttribute("aria-expanded", String(!albumBox.hidden));
      if (!albumBox.hidden) root.querySelector("[data-album-name]").focus();
    });
    root.querySelector("[data-album-create]").addEventListener("click", function () {
      var data = new FormData();
      data.append("name", root.querySelector("[data-album-name]").value);
      data.append("privacy", root.querySelector("[data-album-privacy]").value);
      albumError.textContent = "";
      fetch(root.dataset.albumEndpoint, {
        method: "POST", body: data, credentials: "same-origin",
        headers: { "X-CSRFToken": csrf, "Accept": "application/json" }
      }).then(function (response) {
        return response.json().then(function (body) { return { ok: response.ok, body: body }; });
      }).then(function (answer) {
        if (!answer.ok) throw new Error(answer.body.error ? answer.body.error.message : "Could not create the album.");
        var select = root.querySelector("[data-album-select]");
        var choice = new Option(answer.body.name, answer.body.id_encoded, true, true);
        select.appendChild(choice);
        albumBox.hidden = true;
        albumToggle.setAttribute("aria-expanded", "false");
        root.querySelector("[data-album-name]").value = "";
        select.focus();
      }).catch(function (error) { albumError.textContent = error.message; });
    });
  }
})();
