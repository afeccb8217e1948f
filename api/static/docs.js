// Start Swagger UI on /api/v1/docs. A file of its own (no inline script), so the page's
// Content-Security-Policy can forbid inline script.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  var order = JSON.parse(root.getAttribute("data-tag-order") || "[]");
  function rank(tag) {
    var index = order.indexOf(tag);
    return index < 0 ? order.length : index;
  }
  window.ui = SwaggerUIBundle({
    url: root.getAttribute("data-spec-url"),
    dom_id: "#swagger-ui",
    deepLinking: true,
    // Never send the document to an outside validator: the service works offline.
    validatorUrl: null,
    // The groups in the order of a night's work (api/docs.py, WORKFLOW_ORDER).
    tagsSorter: function (a, b) { return rank(a) - rank(b); },
    docExpansion: "list",
    defaultModelsExpandDepth: 0,
    displayRequestDuration: true,
    // A token typed into "Authorize" is forgotten when the page closes.
    persistAuthorization: false,
  });
})();
