// Targets and discovery pages: ECharts options and data from the page's JSON block, county polygons
// from /geo/counties.geojson (same map code as the overview).
(function () {
  var block = document.getElementById("page-data");
  if (!block || !window.echarts) return;
  var data = JSON.parse(block.textContent);
  // on a touch screen a finger dragging a map scrolls the page instead of panning the map
  var roam = !(window.matchMedia && window.matchMedia("(pointer: coarse)").matches);

  // No chart text under 14 px: the global size, and the axis labels and legend that set their own.
  function larger(option) {
    option = Object.assign({textStyle: {fontSize: 14}}, option);
    ["xAxis", "yAxis"].forEach(function (key) {
      [].concat(option[key] || []).forEach(function (axis) {
        axis.axisLabel = Object.assign({fontSize: 14}, axis.axisLabel);
      });
    });
    [].concat(option.legend || []).forEach(function (legend) {
      legend.textStyle = Object.assign({fontSize: 14}, legend.textStyle);
    });
    return option;
  }

  function chart(el, option) {
    var c = echarts.init(el);
    c.setOption(larger(option));
    window.addEventListener("resize", function () { c.resize(); });
    return c;
  }

  function loadCounties(el) {
    return fetch(el.dataset.geo).then(function (r) { return r.json(); }).then(function (geo) {
      echarts.registerMap("region", geo);
      var names = {};
      geo.features.forEach(function (f) { names[f.properties.code] = f.properties.name; });
      return names;
    });
  }

  // Targets: one chart per target, the funnel, and a county choropleth of the chosen target.
  var charts = document.getElementById("target-charts");
  if (charts) {
    data.targets.forEach(function (t) {
      var div = document.createElement("div");
      charts.appendChild(div);
      chart(div, t.chart);
    });
  }
  var funnel = document.getElementById("funnel");
  if (funnel && data.funnel) chart(funnel, data.funnel);
  var map = document.getElementById("map");
  if (map && data.targets) {
    loadCounties(map).then(function (names) {
      var c = echarts.init(map);
      var select = document.getElementById("map-target");
      function show(i) {
        var values = data.targets[i].counties;
        var max = Math.max.apply(null, values.map(function (v) { return v.value; }).concat([1]));
        c.setOption({
          tooltip: {trigger: "item", formatter: function (p) { return (names[p.name] || p.name) + ": " + (p.value || 0); }},
          visualMap: {min: 0, max: max, left: "left", bottom: 10, text: [String(max), "0"], calculable: true,
                      inRange: {color: ["#eef4fb", "#1f4e79"]}},
          textStyle: {fontSize: 14},
          series: [{type: "map", map: "region", name: data.targets[i].title, roam: roam, nameProperty: "code",
                    data: values, label: {show: false}}]
        }, true);
      }
      show(0);
      if (select) select.addEventListener("change", function () { show(Number(select.value)); });
      map.dataset.ready = "1";
      window.addEventListener("resize", function () { c.resize(); });
    });
  }

  // Discovery: candidate footprints drawn as polygons over the county map.
  var disc = document.getElementById("discover-map");
  if (disc) {
    loadCounties(disc).then(function () {
      var rings = [];
      data.features.forEach(function (f) {
        var polys = f.geometry.type === "Polygon" ? [f.geometry.coordinates] : f.geometry.coordinates;
        polys.forEach(function (p) { rings.push({value: p[0], props: f.properties}); });
      });
      var c = chart(disc, {
        tooltip: {trigger: "item", formatter: function (p) {
          var d = p.data && p.data.props;
          return d ? (d.industry + (d.industry_name ? " " + d.industry_name : "") + " · " + d.county_name + " · " + d.members + " · " + d.area_km2 + " km²") : p.name;
        }},
        geo: {map: "region", roam: roam, itemStyle: {areaColor: "#eef4fb", borderColor: "#8aa"}},
        series: [{
          // a footprint is a few km2, a dot on a province map: a circle sized by members marks it too
          type: "scatter", coordinateSystem: "geo",
          data: data.features.map(function (f) {
            var d = f.properties;
            return {value: [d.centre_lon, d.centre_lat, d.members], props: d};
          }),
          symbolSize: function (v) { return Math.max(6, Math.min(30, Math.sqrt(v[2]) * 1.4)); },
          itemStyle: {color: "rgba(200,60,40,0.25)", borderColor: "#a33"}
        }, {
          type: "custom", coordinateSystem: "geo", data: rings,
          renderItem: function (params, api) {
            var ring = rings[params.dataIndex].value;
            return {type: "polygon", shape: {points: ring.map(function (xy) { return api.coord(xy); })},
                    style: {fill: "rgba(200,60,40,0.45)", stroke: "#a33", lineWidth: 1}};
          }
        }]
      });
      disc.dataset.ready = "1";
      return c;
    });
  }
})();
