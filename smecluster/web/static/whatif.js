// What-if page: gained and lost per city as a bar chart (data in #whatif-data).
(function () {
  var block = document.getElementById("whatif-data");
  var el = document.getElementById("whatif-chart");
  if (!block || !el || !window.echarts) return;
  var data = JSON.parse(block.textContent);
  if (!data || !data.by_city) return;
  var rows = data.by_city;
  var c = window.echarts.init(el);
  c.setOption({
    tooltip: {trigger: "axis"},
    legend: {data: ["+", "-"]},
    xAxis: {type: "category", data: rows.map(function (r) { return r.name; })},
    yAxis: {type: "value", minInterval: 1},
    series: [
      {name: "+", type: "bar", data: rows.map(function (r) { return r.gained; }), itemStyle: {color: "#2e7d32"}},
      {name: "-", type: "bar", data: rows.map(function (r) { return r.lost; }), itemStyle: {color: "#c62828"}}
    ]
  });
  window.addEventListener("resize", function () { c.resize(); });
})();
