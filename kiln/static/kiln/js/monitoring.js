/* Kiln monitoring portals: draws every [data-chart] element with Apache ECharts (served by Kiln).
 *
 * A chart's data sits in the page as JSON (Django's json_script: <script type="application/json" id=...>);
 * data-chart names that element. Kinds: "bars" (months or years; bars, lines, a quartile band),
 * "hbars" (rankings), "donut" and "map" (a choropleth of sub-regions; its GeoJSON is fetched from
 * the same origin). Charts redraw after htmx swaps and resize with the window. No inline scripts or
 * styles: the page's Content-Security-Policy allows neither.
 */
(function () {
  "use strict";

  var instances = [];
  var registered = {};
  var lang = document.documentElement.lang || "zh-hans";
  var locale = lang.indexOf("en") === 0 ? "en" : "zh-CN";
  var FONT = 'system-ui, -apple-system, "Segoe UI", "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", ' +
    '"Noto Sans CJK SC", "WenQuanYi Micro Hei", sans-serif';

  function isDark() { return document.body.classList.contains("screen"); }

  /* Colours too dark to read on the big screen's night-blue background, and their stand-ins. */
  var NIGHT = { "#44403c": "#a8a29e", "#1d2430": "#cfe0ff" };
  function colour(c) { return isDark() && NIGHT[c] ? NIGHT[c] : c; }

  function number(value, digits) {
    if (value === null || value === undefined || isNaN(value)) { return "—"; }
    return Number(value).toLocaleString(locale, { maximumFractionDigits: digits === undefined ? 1 : digits });
  }

  function compact(value) {
    try {
      return new Intl.NumberFormat(locale, { notation: "compact", maximumFractionDigits: 1 }).format(value);
    } catch (e) {
      return number(value, 0);
    }
  }

  function readSpec(el) {
    var source = document.getElementById(el.getAttribute("data-chart"));
    if (!source) { return null; }
    try { return JSON.parse(source.textContent); } catch (e) { return null; }
  }

  function go(url) { if (url) { window.location.assign(url); } }

  function palette() {
    return isDark()
      ? { text: "#cfe0ff", muted: "#7f97bd", line: "#1e3a66", split: "rgba(120,160,220,.14)", tooltip: "#0c1830" }
      : { text: "#1d2430", muted: "#5b6472", line: "#dde2ea", split: "#eef0f4", tooltip: "#ffffff" };
  }

  function common(unit) {
    var p = palette();
    return {
      backgroundColor: "transparent",
      textStyle: { fontFamily: FONT, color: p.text },
      animationDuration: isDark() ? 600 : 300,
      tooltip: {
        // Drawn on the canvas: HTML tooltips carry inline styles, which the page's CSP refuses.
        renderMode: "richText",
        confine: true,
        backgroundColor: p.tooltip,
        borderColor: p.line,
        textStyle: { color: p.text, fontFamily: FONT },
        valueFormatter: function (v) { return number(v) + (unit ? " " + unit : ""); }
      },
      legend: { type: "plain", top: 0, left: 0, textStyle: { color: p.muted }, itemWidth: 14, itemHeight: 10,
                itemGap: 12 }
    };
  }

  /* How many lines a plain legend of these names takes in a chart this wide (ECharts does not say). */
  function legendRows(names, width) {
    var line = 0, rows = 1;
    names.forEach(function (name) {
      var text = 0;
      for (var i = 0; i < name.length; i++) { text += name.charCodeAt(i) > 0x2e80 ? 12.5 : 6.8; }
      var item = 14 + 5 + text + 12;
      if (line + item > width && line > 0) { rows += 1; line = 0; }
      line += item;
    });
    return rows;
  }

  function valueAxis(unit, position) {
    var p = palette();
    return {
      type: "value", name: unit || "", position: position || "left",
      nameTextStyle: { color: p.muted, align: position === "right" ? "left" : "right" },
      axisLabel: { color: p.muted, formatter: compact },
      splitLine: { lineStyle: { color: p.split } }
    };
  }

  function barsOption(spec, width) {
    var p = palette();
    var option = common(spec.unit);
    var twoAxes = spec.series.some(function (s) { return s.yAxis === 1; });
    var units = [spec.unit, spec.unit2];
    option.tooltip.trigger = "axis";
    option.tooltip.valueFormatter = undefined;
    option.tooltip.formatter = function (items) {
      var lines = [items.length ? items[0].axisValueLabel : ""];
      items.forEach(function (it) {
        var s = spec.series[it.seriesIndex];
        if (!s || it.value === null || it.value === undefined || s.type === "band-low" || s.type === "band-high") { return; }
        lines.push(it.marker + it.seriesName + "  " + number(it.value) + " " + (units[s.yAxis || 0] || ""));
      });
      return lines.join("\n");
    };
    var names = spec.series
      .filter(function (s) { return s.type !== "band-low" && s.type !== "band-high"; })
      .map(function (s) { return s.name; });
    option.grid = { left: 8, right: twoAxes ? 8 : 16, top: 36 + legendRows(names, width) * 21, bottom: 8,
                    containLabel: true };
    option.xAxis = {
      type: "category", data: spec.categories,
      axisLine: { lineStyle: { color: p.line } }, axisTick: { show: false }, axisLabel: { color: p.muted }
    };
    option.yAxis = twoAxes ? [valueAxis(spec.unit), valueAxis(spec.unit2, "right")] : valueAxis(spec.unit);
    option.legend.data = names;
    option.series = spec.series.map(function (s, i) {
      var out = { name: s.name, data: s.data, yAxisIndex: s.yAxis || 0, itemStyle: { color: colour(s.color) } };
      if (s.type === "band-low" || s.type === "band-high") {
        out.type = "line";
        out.stack = "band";
        out.symbol = "none";
        out.lineStyle = { opacity: 0 };
        out.areaStyle = s.type === "band-high" ? { color: s.color, opacity: 0.12 } : { opacity: 0 };
        out.tooltip = { show: false };
        out.silent = true;
        return out;
      }
      out.type = s.type || "bar";
      if (s.stack) { out.stack = s.stack; }
      if (out.type === "bar") {
        out.barMaxWidth = 28;
        out.emphasis = { focus: "series" };
      } else {
        out.smooth = 0.25;
        out.symbolSize = 6;
        out.connectNulls = false;
        out.lineStyle = { color: colour(s.color), width: s.width || 2, type: s.dashed ? "dashed" : "solid" };
        out.z = 3;
      }
      if (i === 0 && spec.highlight !== null && spec.highlight !== undefined && spec.categories[spec.highlight]) {
        out.markArea = {
          silent: true,
          itemStyle: { color: isDark() ? "rgba(240,138,75,.14)" : "rgba(180,68,31,.08)" },
          data: [[{ xAxis: spec.categories[spec.highlight] }, { xAxis: spec.categories[spec.highlight] }]]
        };
      }
      return out;
    });
    return option;
  }

  function hbarsOption(spec) {
    var p = palette();
    var option = common(spec.unit);
    option.tooltip.trigger = "axis";
    option.tooltip.axisPointer = { type: "shadow" };
    option.legend.show = false;
    option.grid = { left: 8, right: 56, top: 8, bottom: 8, containLabel: true };
    option.yAxis = {
      type: "category", data: spec.categories, axisTick: { show: false },
      axisLine: { lineStyle: { color: p.line } },
      axisLabel: {
        color: p.text, width: 150, overflow: "truncate",
        formatter: function (v) { return v.length > 14 ? v.slice(0, 13) + "…" : v; }
      }
    };
    option.xAxis = valueAxis(spec.unit);
    option.xAxis.name = "";
    option.series = spec.series.map(function (s) {
      return {
        name: s.name, type: "bar", data: s.data, barMaxWidth: 18,
        itemStyle: { color: colour(s.color), borderRadius: [0, 3, 3, 0] },
        label: { show: true, position: "right", color: p.muted, formatter: function (it) { return compact(it.value); } }
      };
    });
    return option;
  }

  function donutOption(spec, width) {
    var p = palette();
    var option = common(spec.unit);
    var rows = legendRows(spec.data.map(function (d) { return d.name; }), width);
    option.tooltip.trigger = "item";
    option.tooltip.valueFormatter = undefined;
    option.tooltip.formatter = function (it) {
      return it.marker + it.name + "\n" + number(it.value) + " " + spec.unit + " (" + it.percent + "%)";
    };
    option.legend = { type: "plain", bottom: 0, left: "center", textStyle: { color: p.muted }, itemWidth: 12,
                      itemHeight: 10, itemGap: 10 };
    var legendHeight = rows * 20;
    option.series = [{
      type: "pie", radius: ["42%", "64%"], center: ["50%", "50%"],
      top: 0, bottom: legendHeight, avoidLabelOverlap: true, minShowLabelAngle: 6, percentPrecision: 1,
      itemStyle: { borderColor: isDark() ? "#0c1830" : "#fff", borderWidth: 2 },
      label: { color: p.text, formatter: "{d}%", fontSize: 12, overflow: "none" },
      labelLine: { length: 8, length2: 6 },
      data: spec.data.map(function (d) { return { name: d.name, value: d.value, itemStyle: { color: colour(d.color) } }; })
    }];
    return option;
  }

  function mapOption(spec) {
    var p = palette();
    var option = common(spec.unit);
    var values = spec.data.filter(function (d) { return d.value !== null; }).map(function (d) { return d.value; });
    var labels = {};
    spec.data.forEach(function (d) { labels[d.name] = d.label; });
    option.tooltip.trigger = "item";
    option.tooltip.valueFormatter = undefined;
    option.tooltip.formatter = function (it) {
      return (labels[it.name] || it.name) + "\n" + number(it.value) + " " + spec.unit;
    };
    var top = Math.max.apply(null, values.concat([1]));
    option.visualMap = {
      min: 0, max: top, left: 8, bottom: 8, calculable: false, itemHeight: 110, itemWidth: 12,
      text: [compact(top) + " " + spec.unit, "0"], textGap: 6,
      textStyle: { color: p.muted, fontSize: 11 },
      inRange: { color: isDark() ? ["#12325c", "#2f6db5", "#f0a35e", "#f25c3b"] : ["#fdf0e6", "#f6b38a", "#e0703f", "#a33312"] }
    };
    option.series = [{
      type: "map", map: spec.map, nameProperty: "code", roam: false, selectedMode: false,
      showLegendSymbol: false, aspectScale: 0.87, layoutCenter: ["55%", "50%"], layoutSize: "92%",
      label: {
        show: true, color: isDark() ? "#eaf2ff" : "#1d2430", fontSize: 12,
        formatter: function (it) { return labels[it.name] || it.name; }
      },
      emphasis: { label: { color: isDark() ? "#ffffff" : "#1d2430" }, itemStyle: { areaColor: "#1f6fb4" } },
      itemStyle: { borderColor: isDark() ? "#0b1a33" : "#ffffff", borderWidth: 1.2,
                   areaColor: isDark() ? "#1b2a44" : "#eceef2" },
      data: spec.data.map(function (d) { return { name: d.name, value: d.value, url: d.url }; })
    }];
    return option;
  }

  function attachClicks(chart, spec) {
    chart.on("click", function (params) {
      if (spec.kind === "map") { go(params.data && params.data.url); return; }
      if (spec.links && spec.links[params.dataIndex]) { go(spec.links[params.dataIndex]); }
    });
  }

  function draw(el) {
    if (el.getAttribute("data-drawn") || typeof echarts === "undefined") { return; }
    var spec = readSpec(el);
    if (!spec) { return; }
    el.setAttribute("data-drawn", "1");
    var build = { bars: barsOption, hbars: hbarsOption, donut: donutOption, map: mapOption }[spec.kind];
    if (!build) { return; }
    var render = function () {
      var chart = echarts.init(el, isDark() ? "dark" : null, { renderer: "canvas" });
      chart.setOption(build(spec, el.clientWidth || 400));
      attachClicks(chart, spec);
      instances.push(chart);
    };
    if (spec.kind === "map" && !registered[spec.map]) {
      fetch(spec.geojson, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
        .then(function (geojson) { echarts.registerMap(spec.map, geojson); registered[spec.map] = true; render(); })
        .catch(function () { el.setAttribute("data-failed", "1"); });
      return;
    }
    render();
  }

  function drawAll(root) {
    (root || document).querySelectorAll("[data-chart]").forEach(draw);
  }

  function disposeWithin(root) {
    if (!root || typeof echarts === "undefined") { return; }
    instances = instances.filter(function (chart) {
      var dom = chart.getDom();
      if (root === dom || root.contains(dom)) { chart.dispose(); return false; }
      return true;
    });
  }

  var resizeTimer = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () { instances.forEach(function (c) { c.resize(); }); }, 120);
  });

  function tick() {
    document.querySelectorAll("[data-clock]").forEach(function (el) {
      el.textContent = new Date().toLocaleString(locale, { hour12: false });
    });
  }

  function wireButtons() {
    document.querySelectorAll("[data-fullscreen]").forEach(function (button) {
      if (button.getAttribute("data-wired")) { return; }
      button.setAttribute("data-wired", "1");
      button.addEventListener("click", function () {
        if (document.fullscreenElement) { document.exitFullscreen(); }
        else if (document.documentElement.requestFullscreen) { document.documentElement.requestFullscreen(); }
      });
    });
  }

  function start() {
    drawAll(document);
    wireButtons();
    if (document.querySelector("[data-clock]")) { tick(); setInterval(tick, 1000); }
    document.body.addEventListener("htmx:beforeSwap", function (event) { disposeWithin(event.detail.target); });
    document.body.addEventListener("htmx:afterSettle", function () { drawAll(document); });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); }
  else { start(); }
})();
