// What-if page: gained and lost per city as a bar chart, and per county as a map of gained - lost
// (data in #whatif-data; boundaries from the same /geo/counties.geojson the overview map uses).
(function () {
  var block = document.getElementById("whatif-data");
  var el = document.getElementById("whatif-chart");
  if (!block || !el || !window.echarts) return;
  var data = JSON.parse(block.textContent);
  if (!data || !data.by_city) return;
  var rows = data.by_city;
  var c = window.echarts.init(el);
  // no chart text under 14 px; on a touch screen a finger dragging the map scrolls the page
  var roam = !(window.matchMedia && window.matchMedia("(pointer: coarse)").matches);
  c.setOption({
    textStyle: {fontSize: 14},
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

  var mapEl = document.getElementById("whatif-map");
  if (!mapEl || !data.by_county) return;
  fetch(mapEl.dataset.geo).then(function (r) { return r.json(); }).then(function (geo) {
    echarts.registerMap("region", geo);
    var names = {}, counts = {};
    geo.features.forEach(function (f) { names[f.properties.code] = f.properties.name; });
    data.by_county.forEach(function (r) { counts[r.code] = r; });
    var values = data.by_county.map(function (r) { return {name: r.code, value: r.net}; });
    // Symmetric scale so that no change is the middle colour whatever the sign of the extremes.
    var span = Math.max.apply(null, values.map(function (v) { return Math.abs(v.value); }).concat([1]));
    var m = echarts.init(mapEl);
    m.setOption({
      textStyle: {fontSize: 14},
      tooltip: {trigger: "item", formatter: function (p) {
        var r = counts[p.name] || {gained: 0, lost: 0};
        return (names[p.name] || p.name) + ": +" + r.gained + " / -" + r.lost;
      }},
      visualMap: {min: -span, max: span, left: "left", bottom: 10, text: ["+" + span, "-" + span], calculable: true,
                  inRange: {color: ["#c62828", "#f5f5f5", "#2e7d32"]}},
      series: [{type: "map", map: "region", name: mapEl.dataset.label, roam: roam, nameProperty: "code",
                data: values, label: {show: false}}]
    });
    mapEl.dataset.ready = "1";
    window.addEventListener("resize", function () { m.resize(); });
  });
})();
