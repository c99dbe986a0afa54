// Overview map: county polygons from /geo/counties.geojson coloured by cluster count from /api/overview.
(function () {
  var el = document.getElementById("map");
  if (!el || !window.echarts) return;
  Promise.all([fetch(el.dataset.geo).then(function (r) { return r.json(); }),
               fetch(el.dataset.api, {headers: {Accept: "application/json"}}).then(function (r) { return r.json(); })])
    .then(function (res) {
      var geo = res[0], data = res[1];
      echarts.registerMap("region", geo);
      var names = {};
      data.counties.forEach(function (c) { names[c.code] = c.name; });
      var values = data.counties.map(function (c) { return {name: c.code, value: c.clusters}; });
      var max = Math.max.apply(null, values.map(function (v) { return v.value; }).concat([1]));
      var chart = echarts.init(el);
      var touch = window.matchMedia && window.matchMedia("(pointer: coarse)").matches;
      chart.setOption({
        textStyle: {fontSize: 14},
        tooltip: {trigger: "item", textStyle: {fontSize: 14}, formatter: function (p) { return (names[p.name] || p.name) + ": " + (p.value || 0); }},
        visualMap: {min: 0, max: max, left: "left", bottom: 10, text: [String(max), "0"], calculable: true,
                    textStyle: {fontSize: 14}, inRange: {color: ["#eef4fb", "#1f4e79"]}},
        series: [{type: "map", map: "region", name: el.dataset.label, roam: !touch, nameProperty: "code",
                  data: values, label: {show: false}}]
      });
      el.dataset.ready = "1";
      window.addEventListener("resize", function () { chart.resize(); });
    });
})();
