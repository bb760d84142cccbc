// Quality charts: Chart.js bar charts on every <canvas data-quality-chart="ID">, where ID is the id of a
// json_script element holding
//   {"labels": ["…"], "series": [{"label": "…", "data": [1.5, null, …]}],
//    "unit": "%", "stacked": false, "horizontal": false}
// Needs the vendored chartjs/chart.umd.min.js (the global `Chart`). Pages always show the same figures
// in a table: a chart is never the only way to read them. A drawn canvas gets data-state="ready".
(function () {
  "use strict";

  var COLOURS = ["#0b3d6e", "#2e8540", "#d4351c", "#b26f00", "#6f4e99"];
  var LABEL_LENGTH = 40;
  var language = document.documentElement.lang || "uk";
  var numbers = new Intl.NumberFormat(language, { maximumFractionDigits: 2 });

  function shortLabel(label) {
    label = String(label);
    return label.length > LABEL_LENGTH ? label.slice(0, LABEL_LENGTH - 1) + "…" : label;
  }

  function draw(canvas) {
    var source = document.getElementById(canvas.getAttribute("data-quality-chart"));
    if (!source || typeof window.Chart === "undefined") {
      return;
    }
    var spec = JSON.parse(source.textContent);
    var unit = spec.unit ? " " + spec.unit : "";
    var categoryAxis = spec.horizontal ? "y" : "x";
    var valueAxis = spec.horizontal ? "x" : "y";
    var scales = {};
    scales[categoryAxis] = {
      stacked: Boolean(spec.stacked),
      ticks: {
        autoSkip: !spec.horizontal,
        callback: function (value) {
          return shortLabel(this.getLabelForValue(value));
        },
      },
    };
    scales[valueAxis] = { stacked: Boolean(spec.stacked), beginAtZero: true };
    if (spec.horizontal) {
      // One bar group a line: the chart grows with the number of groups.
      var box = canvas.parentNode.insertBefore(document.createElement("div"), canvas);
      box.style.position = "relative";
      box.style.height = Math.max(10, spec.labels.length * spec.series.length * 1.1 + 5) + "rem";
      box.appendChild(canvas);
    }
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: spec.labels,
        datasets: spec.series.map(function (series, index) {
          return { label: series.label, data: series.data, backgroundColor: COLOURS[index % COLOURS.length] };
        }),
      },
      options: {
        indexAxis: categoryAxis,
        maintainAspectRatio: !spec.horizontal,
        animation: false,
        scales: scales,
        plugins: {
          tooltip: {
            callbacks: {
              label: function (context) {
                var value = context.parsed[valueAxis];
                return context.dataset.label + ": " + (value === null ? "—" : numbers.format(value) + unit);
              },
            },
          },
        },
      },
    });
    canvas.setAttribute("data-state", "ready");
  }

  document.querySelectorAll("canvas[data-quality-chart]").forEach(draw);
})();
