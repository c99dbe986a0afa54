// Re-review watch and cluster page: trend charts (ECharts). The watch page carries its chart options in
// its JSON block; the cluster page fetches its cluster's trends from the JSON API.
(function () {
  if (!window.echarts) return;
  function draw(el, option) {
    var c = echarts.init(el);
    c.setOption(option);
    window.addEventListener("resize", function () { c.resize(); });
  }
  var block = document.getElementById("page-data");
  if (block) {
    JSON.parse(block.textContent).charts.forEach(function (x) {
      var el = document.getElementById("trend-" + x.id);
      if (el) draw(el, x.option);
    });
  }
  var own = document.getElementById("cluster-trend");
  if (own && own.dataset.src) {
    fetch(own.dataset.src, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) { draw(own, data.chart); own.dataset.ready = "1"; } });
  }
})();
