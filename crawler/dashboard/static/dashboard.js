/* The overview's charts: progressive enhancement over the server-rendered page.
   Reads /api/overview (the same numbers as the cards) and draws four charts with
   uPlot (uPlot.iife.min.js, MIT, vendored: uPlot.LICENSE). No inline script, so the
   Content-Security-Policy can forbid them. */
(function () {
  "use strict";
  var section = document.querySelector("section.charts[data-src]");
  if (!section || typeof uPlot === "undefined") return;

  var GREEN = "#2e7d32", RED = "#c62828", BLUE = "#1565c0", AMBER = "#ef6c00";

  function width(el) { return Math.max(280, el.clientWidth || 480); }

  function bars() { return uPlot.paths.bars({ size: [0.7, 60] }); }

  function draw(el, opts, data) {
    el.textContent = "";
    var plot = new uPlot(Object.assign({ width: width(el), height: 220, legend: { show: true } }, opts), data, el);
    el.dataset.drawn = String(data[0].length);
    return plot;
  }

  function empty(el, text) {
    el.textContent = text;
    el.dataset.drawn = "0";
  }

  function categorical(el, labels, values, color, name) {
    var xs = labels.map(function (_, i) { return i; });
    draw(el, {
      scales: { x: { time: false, range: [-0.5, labels.length - 0.5] } },
      axes: [
        { values: function (u, splits) { return splits.map(function (i) { var l = labels[i]; return l === undefined ? "" : (l.length > 14 ? l.slice(0, 13) + "…" : l); }); },
          splits: function () { return xs; }, rotate: -30, size: 60 },
        {}
      ],
      series: [{ label: "", value: function (u, i) { return i == null ? "" : labels[i]; } },
               { label: name, stroke: color, fill: color + "99", paths: bars(), points: { show: false } }]
    }, [xs, values]);
  }

  /* Days on the x axis, at least a week wide: a crawl of one day is still a time axis. */
  var DAY = 86400;
  function dayScale(xs) {
    var lo = xs[0], hi = xs[xs.length - 1];
    if (hi - lo < 7 * DAY) { lo -= 3 * DAY; hi += 4 * DAY; }
    return { x: { time: true, range: [lo - DAY / 2, hi + DAY / 2] } };
  }

  function render(data) {
    var days = data.charts.days;
    var el = document.getElementById("chart-refdomains");
    if (days.x.length) {
      draw(el, { scales: dayScale(days.x),
        series: [{}, { label: "referring domains", stroke: BLUE, fill: BLUE + "22", width: 2,
                       paths: uPlot.paths.stepped({ align: 1 }), points: { size: 6 } }] },
        [days.x, days.refdomains]);
    } else { empty(el, "no backlinks yet"); }

    el = document.getElementById("chart-newlost");
    if (days.x.length) {
      /* Lost below the axis, as the report draws it: the two never hide each other. */
      var lost = days.lost.map(function (n) { return -n; });
      draw(el, { scales: dayScale(days.x), series: [{},
        { label: "new", stroke: GREEN, fill: GREEN + "99", paths: bars(), points: { show: false } },
        { label: "lost", stroke: RED, fill: RED + "99", paths: bars(), points: { show: false },
          value: function (u, v) { return v == null ? "--" : String(-v); } }] },
        [days.x, days.new, lost]);
    } else { empty(el, "no backlinks yet"); }

    el = document.getElementById("chart-anchors");
    var anchors = data.charts.anchors;
    if (anchors.length) {
      categorical(el, anchors.map(function (a) { return a.anchor || "(no text)"; }),
                  anchors.map(function (a) { return a.edges; }), GREEN, "edges");
    } else { empty(el, "no anchors yet"); }

    el = document.getElementById("chart-authority");
    var hist = data.charts.authority;
    var labels = hist.labels.concat(["unranked"]);
    var values = hist.domains.concat([hist.unranked]);
    if (values.some(function (v) { return v > 0; })) {
      categorical(el, labels, values, AMBER, "referring domains");
    } else { empty(el, "no referring domains yet"); }
    document.body.dataset.charts = "drawn";
  }

  fetch(section.dataset.src, { credentials: "same-origin", headers: { "Accept": "application/json" } })
    .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
    .then(render)
    .catch(function (err) {
      section.insertAdjacentHTML("beforeend", "<p class=\"error\"></p>");
      section.lastChild.textContent = "charts unavailable: " + err.message;
      document.body.dataset.charts = "failed";
    });
})();
