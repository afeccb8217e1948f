"""The human-readable API documentation, from the same OpenAPI document as openapi.json.

`/api/v1/docs` is Swagger UI, an API browser where a token can be tried out, served from
the `swagger-ui-bundle` package's files by this service (no CDN, works offline) under a
Content-Security-Policy without inline script or style; its endpoints are grouped in the
order of a night's work. `/api/v1/docs/plain` renders the same document on the server with
no script at all, for a phone without JavaScript and for reading.
"""

from __future__ import annotations

import json

import swagger_ui_bundle
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    render_template,
    request,
    send_from_directory,
)

docs_blueprint = Blueprint("api_docs", __name__, template_folder="templates",
                           static_folder="static", static_url_path="/api/v1/docs/assets")

METHODS = ("get", "post", "put", "patch", "delete")
# Swagger UI's own files that the page loads; nothing else of the package is served.
SWAGGER_UI_FILES = frozenset({"swagger-ui.css", "swagger-ui-bundle.js"})
# The page's policy: scripts, styles and images from here only, calls to this API only.
DOCS_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
# The groups of endpoints in the order a night goes: find the place, ask, hold, confirm;
# then what coordinators, regions and admins do. Groups not named here come after.
WORKFLOW_ORDER = (
    "places", "regions", "placement_requests", "holds", "placements", "waitlist",
    "batch_proposals", "escalation", "locations", "units", "solidarity", "policy", "users",
    "health",
)


def tag_order(spec: dict) -> list[str]:
    """Return the spec's tag names in the order of a night's work."""
    names = [tag["name"] for tag in spec.get("tags", [])]
    rank = {name: index for index, name in enumerate(WORKFLOW_ORDER)}
    return sorted(names, key=lambda name: (rank.get(name.lower(), len(rank)), names.index(name)))


@docs_blueprint.get("/api/v1/docs")
def swagger_ui():
    """Show the API browser (Swagger UI)."""
    spec = current_app.extensions["shelter_match.api"].spec.to_dict()
    response = Response(render_template("api_browser.html", info=spec["info"],
                                        tag_order=json.dumps(tag_order(spec))))
    response.headers["Content-Security-Policy"] = DOCS_CSP
    return response


@docs_blueprint.get("/api/v1/docs/swagger-ui/<name>")
def swagger_ui_file(name: str):
    """Serve one of Swagger UI's own files from the installed package."""
    if name not in SWAGGER_UI_FILES:
        abort(404)
    response = send_from_directory(swagger_ui_bundle.swagger_ui_path, name, max_age=86400)
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


@docs_blueprint.after_request
def cache_assets(response: Response) -> Response:
    """Let browsers keep the docs' own static files for a day (they hold no data)."""
    if request.endpoint == "api_docs.static":
        response.headers["Cache-Control"] = "public, max-age=86400"
    return response


@docs_blueprint.get("/api/v1/docs/plain")
def api_docs():
    """Show the API documentation as one plain page, without script."""
    spec = current_app.extensions["shelter_match.api"].spec.to_dict()
    operations = []
    for path, item in sorted(spec.get("paths", {}).items()):
        for method in METHODS:
            if method in item:
                operation = item[method]
                operations.append(
                    {
                        "method": method.upper(),
                        "path": path,
                        "summary": operation.get("summary", ""),
                        "description": operation.get("description", ""),
                        "parameters": operation.get("parameters", []) + item.get("parameters", []),
                        "body": _schema_name(operation.get("requestBody", {})),
                        "responses": {
                            code: _schema_name(response) or response.get("$ref", "").split("/")[-1]
                            for code, response in operation.get("responses", {}).items()
                        },
                        "tag": (operation.get("tags") or [""])[0],
                    }
                )
    operations.sort(key=lambda op: (_rank(op["tag"]), op["path"]))
    return render_template(
        "api_docs.html",
        info=spec["info"],
        operations=operations,
        schemas=spec.get("components", {}).get("schemas", {}),
    )


def _schema_name(holder: dict) -> str:
    for media in holder.get("content", {}).values():
        schema = media.get("schema", {})
        if "$ref" in schema:
            return schema["$ref"].split("/")[-1]
        if schema.get("type") == "array" and "$ref" in schema.get("items", {}):
            return "[" + schema["items"]["$ref"].split("/")[-1] + "]"
    return ""


def _rank(tag: str) -> int:
    lowered = tag.lower()
    return WORKFLOW_ORDER.index(lowered) if lowered in WORKFLOW_ORDER else len(WORKFLOW_ORDER)
