// Priority page: one five-dimension radar per cluster and the rank interval (5th-95th percentile) chart.
(function () {
  var block = document.getElementById("priority-data");
  if (!block || !window.echarts) return;
  var data = JSON.parse(block.textContent);

  function chart(el, option) {
    var c = echarts.init(el);
    c.setOption(option);
    window.addEventListener("resize", function () { c.resize(); });
    return c;
  }

  var radars = document.getElementById("radars");
  if (radars) {
    data.radars.forEach(function (r) {
      var div = document.createElement("div");
      div.className = "radar";
      div.dataset.cluster = r.id;
      radars.appendChild(div);
      chart(div, {
        title: {text: r.name, left: "center", textStyle: {fontSize: 12}},
        radar: {indicator: data.axes.map(function (a) { return {name: a, max: 1}; }), radius: "58%",
                center: ["50%", "58%"], axisName: {fontSize: 10}},
        series: [{type: "radar", areaStyle: {opacity: 0.25}, data: [{value: r.values, name: r.name}]}],
        tooltip: {}
      });
    });
  }

  var intervals = document.getElementById("intervals");
  if (intervals && data.intervals.length) {
    var names = data.intervals.map(function (x) { return x.name; });
    intervals.style.height = Math.max(160, 36 * names.length + 60) + "px";
    chart(intervals, {
      grid: {left: 220, right: 30, top: 20, bottom: 40},
      tooltip: {trigger: "axis", axisPointer: {type: "shadow"}},
      xAxis: {type: "value", min: 0, max: Math.max(data.ranked, 2), name: "rank", minInterval: 1},
      yAxis: {type: "category", data: names, inverse: true},
      series: [
        {type: "bar", stack: "interval", itemStyle: {color: "transparent"},
         data: data.intervals.map(function (x) { return x.p05; }), tooltip: {show: false}},
        {type: "bar", stack: "interval", name: "P05-P95", barWidth: 14, itemStyle: {color: "#9ab8d8"},
         data: data.intervals.map(function (x) { return Math.max(x.p95 - x.p05, 0.15); })},
        {type: "scatter", name: "rank", symbolSize: 12, itemStyle: {color: "#c0392b"},
         data: data.intervals.map(function (x, i) { return [x.rank, i]; })}
      ]
    });
  }
})();
