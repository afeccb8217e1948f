"""The human-readable API documentation at /api/v1/docs, rendered from the OpenAPI document.

Rendered on the server from the same spec as /api/v1/openapi.json, with no script and no
CDN, so it works offline and cannot drift from the API.
"""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

docs_blueprint = Blueprint("api_docs", __name__, template_folder="templates")

METHODS = ("get", "post", "put", "patch", "delete")


@docs_blueprint.get("/api/v1/docs")
def api_docs():
    """Show the API documentation."""
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
