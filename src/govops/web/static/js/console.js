/* govops console: theme switch, charts and maps (ECharts), sortable tables. No framework, no network
   but our own server. Re-runs on the part of the page that HTMX swaps in. */
(function () {
  "use strict";

  var charts = [];
  var mapReady = null;
  var mapKind = null;

  function css(name) { return getComputedStyle(document.documentElement).getPropertyValue(name).trim(); }

  // Names and units come from the catalogue, which people edit: whatever ECharts shows as HTML is escaped.
  var HTML_ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
  function escapeHtml(value) {
    return String(value === null || value === undefined ? "" : value).replace(/[&<>"']/g, function (c) { return HTML_ESCAPES[c]; });
  }

  function formatter(locale, digits) {
    var nf = new Intl.NumberFormat(locale === "vi" ? "vi-VN" : "en-US", { maximumFractionDigits: digits });
    return function (v) { return v === null || v === undefined ? "—" : nf.format(v); };
  }

  function loadMap() {
    if (!mapReady) {
      mapReady = fetch("/maps/provinces.json", { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (geo) { echarts.registerMap("vn34", geo); mapKind = geo.kind; return geo; });
    }
    return mapReady;
  }

  function lineOption(cfg, reportedLabel) {
    var fmt = formatter(cfg.locale, 2);
    // Points reported for the period itself (an official annual figure of a monthly indicator) get a diamond,
    // and the tooltip says so.
    var reported = cfg.series.map(function (s) { return s.reported || []; });
    function tooltip(items) {
      if (!items.length) return "";
      var lines = [escapeHtml(items[0].axisValueLabel)];
      items.forEach(function (it) {
        var mark = reported[it.seriesIndex].indexOf(it.name) >= 0 ? " (" + reportedLabel + ")" : "";
        // it.marker is ECharts' own coloured dot; the names come from the catalogue and are escaped.
        lines.push(it.marker + escapeHtml(it.seriesName + ": " + fmt(it.value[1]) + mark));
      });
      return lines.join("<br>");
    }
    return {
      textStyle: { color: css("--text") },
      // The tooltip is HTML: every name and label in it is escaped (escapeHtml), numbers formatted.
      tooltip: { trigger: "axis", formatter: tooltip },
      legend: { top: 0, textStyle: { color: css("--text") } },
      grid: { left: 56, right: 16, top: 36, bottom: 56 },
      xAxis: { type: "category", axisLabel: { color: css("--muted") } },
      // A log scale (cfg.log) shows a value a thousand times off beside the band it should have been in.
      yAxis: { type: cfg.log ? "log" : "value", scale: true, name: cfg.unit, axisLabel: { color: css("--muted"), formatter: fmt },
               splitLine: { lineStyle: { color: css("--line") } } },
      dataZoom: [{ type: "inside" }, { type: "slider", height: 18, bottom: 8 }],
      series: cfg.series.map(function (s, i) {
        var marks = s.points.filter(function (p) { return reported[i].indexOf(p[0]) >= 0 && p[1] !== null; });
        return { name: s.name, type: "line", showSymbol: false, connectNulls: false, data: s.points,
                 markPoint: marks.length ? { symbol: "diamond", symbolSize: 11, label: { show: false },
                                             tooltip: { formatter: function (p) { return p.name; } },
                                             data: marks.map(function (p) {
                                               return { coord: p, name: reportedLabel + ": " + fmt(p[1]) };
                                             }) } : undefined };
      })
    };
  }

  // A forecast's fan: the observed line, the point forecast, and its 95% and 80% bands as stacked areas (the
  // lower bound invisible, the band's width on top of it).
  function fanOption(cfg, labels) {
    var fmt = formatter(cfg.locale, 2);
    function width(lo, hi) { return lo.map(function (v, i) { return v === null || hi[i] === null ? null : hi[i] - v; }); }
    function band(name, lo, hi, stack, opacity) {
      return [
        { name: name, type: "line", stack: stack, data: lo, lineStyle: { opacity: 0 }, symbol: "none",
          tooltip: { show: false } },
        { name: name, type: "line", stack: stack, data: width(lo, hi), lineStyle: { opacity: 0 }, symbol: "none",
          itemStyle: { color: css("--link"), opacity: opacity + 0.3 }, areaStyle: { color: css("--link"), opacity: opacity } }
      ];
    }
    return {
      textStyle: { color: css("--text") },
      tooltip: { trigger: "axis", valueFormatter: function (v) { return v === null || v === undefined ? "–" : fmt(v); } },
      legend: { top: 0, data: [labels.history, labels.forecast, labels.band80, labels.band95].concat(cfg.required ? [labels.required] : []),
                textStyle: { color: css("--text") } },
      grid: { left: 56, right: 16, top: 36, bottom: 56 },
      xAxis: { type: "category", data: cfg.periods, axisLabel: { color: css("--muted") } },
      yAxis: { type: "value", scale: true, name: cfg.unit, axisLabel: { color: css("--muted"), formatter: fmt },
               splitLine: { lineStyle: { color: css("--line") } } },
      dataZoom: [{ type: "inside" }, { type: "slider", height: 18, bottom: 8 }],
      series: band(labels.band95, cfg.lo95, cfg.hi95, "b95", 0.15)
        .concat(band(labels.band80, cfg.lo80, cfg.hi80, "b80", 0.3))
        .concat([
          { name: labels.history, type: "line", data: cfg.history, showSymbol: false, lineStyle: { color: css("--text") },
            itemStyle: { color: css("--text") } },
          { name: labels.forecast, type: "line", data: cfg.mean, showSymbol: false, lineStyle: { type: "dashed" },
            itemStyle: { color: css("--link") } }
        ]).concat(cfg.required ? [
          { name: labels.required, type: "line", data: cfg.required, showSymbol: false, connectNulls: true,
            lineStyle: { type: "dotted", color: css("--muted") }, itemStyle: { color: css("--muted") } }
        ] : [])
    };
  }

  function mapOption(cfg) {
    var values = cfg.data.map(function (d) { return d.value; }).filter(function (v) { return v !== null; });
    var fmt = formatter(cfg.locale, 2);
    var labels = {};
    cfg.data.forEach(function (d) { labels[d.name] = d.label; });
    return {
      tooltip: { trigger: "item", formatter: function (p) {
        return escapeHtml((labels[p.name] || p.name) + ": " + fmt(p.value) + " " + (cfg.unit || "")); } },
      visualMap: { min: values.length ? Math.min.apply(null, values) : 0,
                   max: values.length ? Math.max.apply(null, values) : 1, calculable: true, left: 8, bottom: 8,
                   inRange: { color: ["#fde0dd", "#fa9fb5", "#c51b8a", "#7a0177"] },
                   textStyle: { color: css("--text") }, formatter: fmt },
      series: [{ type: "map", map: "vn34", roam: true, aspectScale: mapKind === "tile_grid" ? 1 : 0.95,
                 layoutCenter: ["50%", "50%"], layoutSize: "95%", data: cfg.data.filter(function (d) { return d.value !== null; }),
                 itemStyle: { borderColor: css("--panel"), areaColor: css("--chip") },
                 // Labels are drawn on the canvas as plain text: nothing there is read as HTML.
                 label: { show: mapKind === "tile_grid", fontSize: 9, color: css("--text"),
                          formatter: function (p) { return labels[p.name] || p.name; } },
                 emphasis: { label: { show: true, formatter: function (p) { return labels[p.name] || p.name; } } } }]
    };
  }

  // A tile of the grid map is as wide as one unit of its coordinates: a name wider than its tile is broken
  // over two lines in a smaller type, rather than drawn over its neighbours.
  function fitTileLabels(chart) {
    if (mapKind !== "tile_grid") return;
    var a = chart.convertToPixel({ seriesIndex: 0 }, [0, 0]);
    var b = chart.convertToPixel({ seriesIndex: 0 }, [1, 0]);
    if (!a || !b) return;
    var width = Math.max(16, Math.floor(Math.abs(b[0] - a[0])) - 4);
    var size = width < 40 ? 7 : 9;
    var current = chart.getOption().series[0].label || {};
    if (current.width === width && current.fontSize === size) return;
    chart.setOption({ series: [{ label: { width: width, overflow: "break", fontSize: size, lineHeight: size + 1 } }] });
  }

  // Counts stacked by category (the tasks of each month by status): the colours are the page's CSS variables
  // or colours named in the data; the names are escaped in the tooltip, which ECharts writes as HTML.
  function stackedOption(cfg) {
    var fmt = formatter(cfg.locale, 0);
    return {
      textStyle: { color: css("--text") },
      color: cfg.series.map(function (s) { return s.color.indexOf("--") === 0 ? css(s.color) : s.color; }),
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, formatter: function (items) {
        if (!items.length) return "";
        return [escapeHtml(items[0].axisValueLabel)].concat(items.map(function (it) {
          return it.marker + escapeHtml(it.seriesName + ": " + fmt(it.value));
        })).join("<br>");
      } },
      legend: { top: 0, textStyle: { color: css("--text") } },
      grid: { left: 8, right: 8, top: 48, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: cfg.categories, axisLabel: { color: css("--muted") } },
      yAxis: { type: "value", minInterval: 1, axisLabel: { color: css("--muted"), formatter: fmt },
               splitLine: { lineStyle: { color: css("--line") } } },
      series: cfg.series.map(function (s) { return { name: s.name, type: "bar", stack: "all", data: s.data }; })
    };
  }

  function draw(root) {
    if (typeof echarts === "undefined") return;
    root.querySelectorAll("[data-echarts]").forEach(function (el) {
      var source = document.getElementById(el.dataset.echarts);
      if (!source) return;
      var cfg = JSON.parse(source.textContent);
      var chart = echarts.getInstanceByDom(el) || echarts.init(el, null, { renderer: "canvas" });
      charts.push(chart);
      if (cfg.kind === "map") {
        loadMap().then(function () {
          chart.setOption(mapOption(cfg), true);
          fitTileLabels(chart);
          chart.on("finished", function () { fitTileLabels(chart); });
          el.dataset.drawn = "true";
        });
      } else if (cfg.kind === "stacked") {
        chart.setOption(stackedOption(cfg), true);
        el.dataset.drawn = "true";
      } else if (cfg.kind === "fan") {
        chart.setOption(fanOption(cfg, JSON.parse(el.dataset.labels || "{}")), true);
        el.dataset.drawn = "true";
      } else {
        chart.setOption(lineOption(cfg, el.dataset.reportedLabel || ""), true);
        el.dataset.drawn = "true";
      }
    });
  }

  function sortable(root) {
    root.querySelectorAll("table.sortable th button").forEach(function (button) {
      button.addEventListener("click", function () {
        var th = button.closest("th"), table = th.closest("table"), index = Array.prototype.indexOf.call(th.parentNode.children, th);
        var asc = th.getAttribute("aria-sort") !== "ascending";
        table.querySelectorAll("th").forEach(function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", asc ? "ascending" : "descending");
        var rows = Array.prototype.slice.call(table.tBodies[0].rows);
        rows.sort(function (a, b) {
          var x = a.cells[index], y = b.cells[index];
          var u = x.dataset.value !== undefined ? x.dataset.value : x.textContent.trim();
          var v = y.dataset.value !== undefined ? y.dataset.value : y.textContent.trim();
          var c = button.dataset.sort === "num" ? (parseFloat(u || "-1e300") - parseFloat(v || "-1e300")) : u.localeCompare(v, "vi");
          return asc ? c : -c;
        });
        rows.forEach(function (r) { table.tBodies[0].appendChild(r); });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var toggle = document.getElementById("theme-toggle");
    if (toggle) toggle.addEventListener("click", function () {
      var dark = css("--bg").toLowerCase() === "#0f1216";
      var next = dark ? "light" : "dark";
      document.documentElement.dataset.theme = next;
      localStorage.setItem("govops-theme", next);
      charts.forEach(function (c) { c.dispose(); });
      charts = [];
      draw(document);
    });
    draw(document);
    sortable(document);
    window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
    document.body.addEventListener("htmx:afterSwap", function (e) { draw(e.target); sortable(e.target); });
  });
})();
