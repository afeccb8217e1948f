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

// Her open requests refresh themselves: an offer the matcher makes shows within seconds.
// The page asks every few seconds with the digest it shows (If-None-Match); an unchanged
// list answers 304, a changed one the new list. Without this script a reload shows it.
(function () {
  "use strict";
  var POLL_MS = 4000;
  function start() {
    var box = document.getElementById("live-requests");
    if (!box || !window.fetch) { return; }
    var url = box.getAttribute("data-live-url");
    var etag = box.getAttribute("data-etag");
    function poll() {
      fetch(url, {headers: {"If-None-Match": '"' + etag + '"'}, credentials: "same-origin",
                  cache: "no-store", redirect: "manual"})
        .then(function (response) {
          // Signed out (a redirect) or an error: leave the page as it is.
          if (response.status !== 200 || !response.headers.get("X-Live-Fragment")) {
            return null;
          }
          var tag = (response.headers.get("ETag") || "").replace(/"/g, "");
          return response.text().then(function (html) {
            etag = tag;
            box.innerHTML = html;
          });
        })
        .catch(function () { return null; })
        .then(function () { window.setTimeout(poll, POLL_MS); });
    }
    window.setTimeout(poll, POLL_MS);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
