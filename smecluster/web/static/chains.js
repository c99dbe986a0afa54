// Chain page: the chain as a graph (links coloured by coverage, supplies-to edges as arrows) and the
// partners of the cluster's gaps on the county map. Data from the page's JSON block.
(function () {
  var block = document.getElementById("page-data");
  if (!block || !window.echarts) return;
  var data = JSON.parse(block.textContent);

  var g = document.getElementById("chain-graph");
  if (g) {
    var c = echarts.init(g);
    c.setOption({
      tooltip: {formatter: function (p) { return p.dataType === "node" ? p.data.name + ": " + p.data.firms : ""; }},
      series: [{
        type: "graph", layout: "none", roam: true, edgeSymbol: ["none", "arrow"], edgeSymbolSize: 8,
        label: {show: true, position: "bottom", fontSize: 11},
        lineStyle: {color: "#99a", curveness: 0.15, width: 1.2},
        data: data.graph.nodes, links: data.graph.edges
      }]
    });
    window.addEventListener("resize", function () { c.resize(); });
    g.dataset.ready = "1";
  }

  var map = document.getElementById("partner-map");
  if (map) {
    fetch(map.dataset.geo).then(function (r) { return r.json(); }).then(function (geo) {
      echarts.registerMap("region", geo);
      var m = echarts.init(map);
      m.setOption({
        tooltip: {trigger: "item", formatter: function (p) {
          var d = p.data && p.data.props;
          return d ? (d.name + " · " + d.link + " · " + (d.county_name || "") + " · " + d.distance_km + " km") : p.name;
        }},
        geo: {map: "region", roam: true, itemStyle: {areaColor: "#eef4fb", borderColor: "#8aa"}},
        series: [{
          type: "scatter", coordinateSystem: "geo", symbolSize: 9,
          data: data.partners.filter(function (p) { return p.lon !== null && p.lat !== null; }).map(function (p) {
            return {value: [p.lon, p.lat], props: p, itemStyle: {color: data.colours[p.status]}};
          })
        }]
      });
      window.addEventListener("resize", function () { m.resize(); });
      map.dataset.ready = "1";
    });
  }
})();
