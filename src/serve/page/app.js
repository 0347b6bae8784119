"use strict";
// Placeholder: renders the embedded ranking as a list.
(function () {
  const init = JSON.parse(document.getElementById("kapok-init").textContent);
  const app = document.getElementById("app");
  const ol = document.createElement("ol");
  ol.id = "ranking";
  for (const u of (init.score || { units: [] }).units) {
    const li = document.createElement("li");
    li.className = "unit";
    li.dataset.unit = u.unit;
    li.dataset.rank = u.rank == null ? "" : String(u.rank);
    li.textContent = u.name + " " + (u.score == null ? "–" : u.score.toFixed(2));
    ol.appendChild(li);
  }
  app.appendChild(ol);
})();
