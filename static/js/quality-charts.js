// Quality charts: Chart.js bar charts on every <canvas data-quality-chart="ID">, where ID is the id of a
// json_script element holding
//   {"labels": ["…"], "series": [{"label": "…", "data": [1.5, null, …]}],
//    "amount": {"one": "%(count)s день", "few": "%(count)s дні", "many": "%(count)s днів", "other": "%(count)s дня"},
//    "stacked": false, "horizontal": false, "integers": false}
// "amount" phrases a value in the tooltips by its plural category (Intl.PluralRules; "other" is also
// the fallback), as the page's summary does; "integers" keeps the value axis to whole numbers.
// Needs the vendored chartjs/chart.umd.min.js (the global `Chart`). Pages always show the same figures
// in a table: a chart is never the only way to read them. A drawn canvas gets data-state="ready".
(function () {
  "use strict";

  var COLOURS = ["#0b3d6e", "#2e8540", "#d4351c", "#b26f00", "#6f4e99"];
  var LABEL_LENGTH = 40;
  var language = document.documentElement.lang || "uk";
  var numbers = new Intl.NumberFormat(language, { maximumFractionDigits: 2 });
  var plurals = new Intl.PluralRules(language);
  // A vertical chart's height: about half its width, yet readable on a phone.
  var CHART_HEIGHT = "clamp(16rem, 40vw, 28rem)";

  function amount(forms, value) {
    var form = (forms && (forms[plurals.select(value)] || forms.other)) || "%(count)s";
    return form.replace("%(count)s", numbers.format(value));
  }

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
    scales[valueAxis] = {
      stacked: Boolean(spec.stacked),
      beginAtZero: true,
      ticks: spec.integers ? { precision: 0 } : {},
    };
    // Horizontal: one bar group a line, so the chart grows with the number of groups.
    var box = canvas.parentNode.insertBefore(document.createElement("div"), canvas);
    box.style.position = "relative";
    box.style.height = spec.horizontal
      ? Math.max(10, spec.labels.length * spec.series.length * 1.1 + 5) + "rem"
      : CHART_HEIGHT;
    box.appendChild(canvas);
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
        maintainAspectRatio: false,
        animation: false,
        scales: scales,
        plugins: {
          tooltip: {
            callbacks: {
              label: function (context) {
                var value = context.parsed[valueAxis];
                return context.dataset.label + ": " + (value === null ? "—" : amount(spec.amount, value));
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
