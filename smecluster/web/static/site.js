// Every page: mark that scripts run (the stylesheet then folds the header into a menu on phones), open
// and close that menu, and label each table cell with its column's header for the phone's stacked cards
// (templates may set data-label themselves, on a cell or on a header whose text holds a sort arrow).
document.documentElement.classList.add("js");
document.addEventListener("DOMContentLoaded", function () {
  var button = document.getElementById("menu-button");
  var header = button && button.closest("header");
  if (header) {
    var set = function (open) {
      header.classList.toggle("open", open);
      button.setAttribute("aria-expanded", open ? "true" : "false");
    };
    button.addEventListener("click", function () { set(!header.classList.contains("open")); });
    document.addEventListener("keydown", function (e) {
      if (e.key === "Escape" && header.classList.contains("open")) { set(false); button.focus(); }
    });
  }
  document.querySelectorAll("main table").forEach(function (table) {
    var head = table.tHead && table.tHead.rows[0];
    if (!head) return;
    var labels = [];
    Array.prototype.forEach.call(head.cells, function (th) {
      var label = th.getAttribute("data-label") || th.textContent.trim();
      for (var i = 0; i < (th.colSpan || 1); i++) labels.push(label);
    });
    Array.prototype.forEach.call(table.tBodies, function (body) {
      Array.prototype.forEach.call(body.rows, function (row) {
        var col = 0;
        Array.prototype.forEach.call(row.cells, function (cell) {
          if (!cell.hasAttribute("data-label") && labels[col]) cell.setAttribute("data-label", labels[col]);
          col += cell.colSpan || 1;
        });
      });
    });
  });
});
