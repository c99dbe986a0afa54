// National view: province outlines from /geo/provinces.geojson coloured by the measure chosen, from the
// province rows embedded in the page (#national-data); provinces outside the viewer's scope stay grey.
(function () {
  var el = document.getElementById("national-map");
  var raw = document.getElementById("national-data");
  if (!el || !raw || !window.echarts) return;
  var rows = JSON.parse(raw.textContent);
  var select = document.getElementById("national-measure");
  fetch(el.dataset.geo).then(function (r) { return r.json(); }).then(function (geo) {
    echarts.registerMap("china", geo);
    var names = {};
    geo.features.forEach(function (f) { names[f.properties.code] = f.properties.name; });
    var chart = echarts.init(el);
    var touch = window.matchMedia && window.matchMedia("(pointer: coarse)").matches;
    function draw() {
      var measure = select ? select.value : "srdi_per_million";
      var data = rows.map(function (p) { return {name: p.code, value: p[measure] === null ? 0 : p[measure]}; });
      var max = Math.max.apply(null, data.map(function (d) { return d.value; }).concat([1]));
      chart.setOption({
        textStyle: {fontSize: 14},
        tooltip: {trigger: "item", textStyle: {fontSize: 14}, formatter: function (p) {
          return (names[p.name] || p.name) + ": " + (p.value === undefined || isNaN(p.value) ? "–" : p.value); }},
        visualMap: {min: 0, max: max, left: "left", bottom: 10, text: [String(max), "0"], calculable: true,
                    textStyle: {fontSize: 14}, inRange: {color: ["#eef4fb", "#1f4e79"]}},
        series: [{type: "map", map: "china", roam: !touch, layoutCenter: ["50%", "50%"], layoutSize: "95%", nameProperty: "code", data: data,
                  label: {show: false}, itemStyle: {areaColor: "#e6e6e6"}}]
      }, true);
    }
    draw();
    if (select) select.addEventListener("change", draw);
    chart.on("click", function (p) {
      if (rows.some(function (r) { return r.code === p.name; })) window.location = "/national/provinces/" + p.name;
    });
    el.dataset.ready = "1";
    window.addEventListener("resize", function () { chart.resize(); });
  });
})();
