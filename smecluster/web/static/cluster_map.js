// Cluster page map: the county polygon, the cluster's footprint over it and (for the bureaus over the
// cluster) its located members, red when outside the county. Data: /api/clusters/{id}/map (GeoJSON).
(function () {
  var el = document.getElementById("cluster-map");
  if (!el || !window.echarts) return;
  Promise.all([fetch(el.dataset.geo).then(function (r) { return r.json(); }),
               fetch(el.dataset.src, {headers: {Accept: "application/json"}}).then(function (r) { return r.json(); })])
    .then(function (res) {
      var county = res[0], data = res[1];
      echarts.registerMap("cluster-county", county);
      var rings = [], inside = [], outside = [];
      data.features.forEach(function (f) {
        var g = f.geometry;
        if (f.properties.kind === "footprint") {
          (g.type === "Polygon" ? [g.coordinates] : g.coordinates).forEach(function (p) { rings.push(p[0]); });
        } else if (f.properties.kind === "members") {
          g.coordinates.forEach(function (xy, i) { (f.properties.outside[i] ? outside : inside).push(xy); });
        }
      });
      var touch = window.matchMedia && window.matchMedia("(pointer: coarse)").matches;
      var chart = echarts.init(el);
      chart.setOption({
        textStyle: {fontSize: 14},
        tooltip: {trigger: "item", textStyle: {fontSize: 14}},
        geo: {map: "cluster-county", roam: !touch, nameProperty: "code",
              itemStyle: {areaColor: "#eef4fb", borderColor: "#6b8299"}},
        series: [{
          type: "custom", coordinateSystem: "geo", name: el.dataset.footprint, data: rings,
          renderItem: function (params, api) {
            var ring = rings[params.dataIndex];
            return {type: "polygon", shape: {points: ring.map(function (xy) { return api.coord(xy); })},
                    style: {fill: "rgba(31,78,121,0.35)", stroke: "#1f4e79", lineWidth: 1.5}};
          },
          tooltip: {formatter: function () {
            return el.dataset.footprint + (data.footprint_km2 != null ? ": " + data.footprint_km2 + " km²" : "");
          }}
        }, {
          type: "scatter", coordinateSystem: "geo", name: el.dataset.members, data: inside, symbolSize: 5,
          itemStyle: {color: "#2e5c3a"}
        }, {
          type: "scatter", coordinateSystem: "geo", name: el.dataset.outside, data: outside, symbolSize: 7,
          itemStyle: {color: "#c62828"}
        }]
      });
      el.dataset.ready = "1";
      window.addEventListener("resize", function () { chart.resize(); });
    });
})();
