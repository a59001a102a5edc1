/* 统计看板: draw each chart from the ECharts options the server put in its data-chart
   attribute (JSON). No inline script (Content-Security-Policy); the numbers are in the table
   beside each chart, so the page says everything without this script too. */
(function () {
  "use strict";

  function draw() {
    if (typeof echarts === "undefined") {
      return;
    }
    var charts = [];
    document.querySelectorAll("[data-chart]").forEach(function (element) {
      var chart = echarts.init(element, null, { renderer: "canvas" });
      chart.setOption(JSON.parse(element.getAttribute("data-chart")));
      element.setAttribute("data-drawn", "1");
      charts.push(chart);
    });
    var pending = null;
    window.addEventListener("resize", function () {
      window.clearTimeout(pending);
      pending = window.setTimeout(function () {
        charts.forEach(function (chart) { chart.resize(); });
      }, 150);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
