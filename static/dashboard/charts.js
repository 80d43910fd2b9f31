/* Bar charts of the dashboard home, drawn as SVG from the JSON the page carries
   (`<script type="application/json" id="...">`, made by Django's json_script): no library,
   no inline script. Each `[data-chart="ID"]` area reads the series with that id:
   [{"day": "2026-11-02", "count": 3}, ...]. */
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  var HEIGHT = 150, LEFT = 30, BOTTOM = 18, TOP = 6;

  function el(name, attrs, text) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attrs).forEach(function (key) { node.setAttribute(key, attrs[key]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function niceMax(value) {
    if (value <= 4) return 4;
    var power = Math.pow(10, Math.floor(Math.log10(value)));
    var steps = [1, 2, 2.5, 5, 10];
    for (var i = 0; i < steps.length; i++) {
      if (steps[i] * power >= value) return steps[i] * power;
    }
    return 10 * power;
  }

  function shortDay(iso) {
    var parts = iso.split("-");
    return parts[2] + "/" + parts[1];
  }

  function draw(area) {
    var source = document.getElementById(area.getAttribute("data-chart"));
    if (!source) return;
    var series;
    try { series = JSON.parse(source.textContent); } catch (e) { return; }
    if (!Array.isArray(series) || !series.length) return;
    var label = area.getAttribute("data-label") || "";
    // Drawn at the area's own width, so labels keep their size on any screen.
    var WIDTH = Math.max(240, Math.round(area.clientWidth - 20));
    var max = niceMax(Math.max.apply(null, series.map(function (d) { return d.count; })));
    var plotW = WIDTH - LEFT, plotH = HEIGHT - BOTTOM - TOP;
    var step = plotW / series.length, barW = Math.max(2, step * 0.7);
    var svg = el("svg", {
      viewBox: "0 0 " + WIDTH + " " + HEIGHT,
      role: "img", "aria-label": series.length + " days of " + label
    });
    [0, 0.5, 1].forEach(function (f) {
      var y = TOP + plotH - plotH * f;
      svg.appendChild(el("line", { x1: LEFT, x2: WIDTH, y1: y, y2: y, "class": "dash-gridline" }));
      svg.appendChild(el("text", { x: LEFT - 4, y: y + 3, "text-anchor": "end", "class": "dash-axis" },
        String(Math.round(max * f))));
    });
    series.forEach(function (d, i) {
      var h = d.count ? Math.max(2, plotH * d.count / max) : 1;
      var x = LEFT + i * step + (step - barW) / 2;
      var bar = el("rect", {
        x: x.toFixed(1), y: (TOP + plotH - h).toFixed(1), width: barW.toFixed(1), height: h.toFixed(1),
        rx: 1, "class": d.count ? "dash-bar" : "dash-bar-zero"
      });
      bar.appendChild(el("title", {}, d.day + ": " + d.count + " " + label));
      svg.appendChild(bar);
      if (i === 0 || i === series.length - 1 || i === Math.floor(series.length / 2)) {
        svg.appendChild(el("text", {
          x: (LEFT + i * step + step / 2).toFixed(1), y: HEIGHT - 4,
          "text-anchor": i === 0 ? "start" : (i === series.length - 1 ? "end" : "middle"),
          "class": "dash-axis"
        }, shortDay(d.day)));
      }
    });
    area.replaceChildren(svg);
    // The numbers for screen readers and text browsers, beside the drawing.
    var table = document.createElement("table");
    table.className = "dash-chart-table";
    series.forEach(function (d) {
      var row = table.insertRow();
      row.insertCell().textContent = d.day;
      row.insertCell().textContent = String(d.count);
    });
    area.appendChild(table);
    area.setAttribute("data-drawn", "true");
  }

  function start() {
    document.querySelectorAll("[data-chart]").forEach(draw);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
