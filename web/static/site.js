// Progressive enhancement only: every page works without this file.
// Counts down the time left on a hold; the server already shows when it expires.
(function () {
  "use strict";
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function tick(element) {
    var expires = Date.parse(element.getAttribute("data-expires-at"));
    if (isNaN(expires)) { return; }
    var left = Math.max(0, Math.round((expires - Date.now()) / 1000));
    var label = element.getAttribute(left > 0 ? "data-left-label" : "data-expired-label") || "";
    element.textContent = label.replace("%s", Math.floor(left / 60) + ":" + pad(left % 60));
    if (left === 0) { element.classList.add("expired"); }
  }
  function start() {
    var elements = document.querySelectorAll("[data-expires-at]");
    if (!elements.length) { return; }
    var all = Array.prototype.slice.call(elements);
    all.forEach(tick);
    window.setInterval(function () { all.forEach(tick); }, 1000);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
