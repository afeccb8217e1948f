"""Examples in the OpenAPI document, for a night's workflow (shown by /api/v1/docs).

An apispec plugin adds a request example to the operations a crisis worker and a
coordinator use most, so the API browser's "Try it out" starts from a sensible body. Ids
in the examples are placeholders: take them from the answer before.
"""

from __future__ import annotations

from typing import Any

from apispec import BasePlugin

JSON = "application/json"

REQUEST_EXAMPLES: dict[tuple[str, str], dict[str, Any]] = {
    ("/api/v1/placement-requests", "post"): {
        "case_reference": "VT-2026-0042",
        "origin_region_code": "GM0599",
        "risk_level": "rood",
        "danger": {"place": "Schiedam"},
        "household": {"adults": 1, "children": 2},
        "needs": ["pets_allowed"],
    },
    ("/api/v1/placement-requests/{request_id}/proposals", "post"): {"limit": 10},
    ("/api/v1/placement-requests/{request_id}/holds", "post"): {
        "unit_id": "UNIT-ID-FROM-A-PROPOSAL"},
    ("/api/v1/placement-requests/{request_id}/cancel", "post"): {"outcome": "own_network"},
    ("/api/v1/batch-proposals", "post"): {"request_ids": ["REQUEST-ID-1", "REQUEST-ID-2"]},
    ("/api/v1/units/{unit_id}", "patch"): {"status": "free"},
    ("/api/v1/placements/{placement_id}/discharge", "post"): {
        "ended_at": "2026-11-22T10:00:00Z"},
}


class WorkflowExamples(BasePlugin):
    """Add REQUEST_EXAMPLES to the request bodies of their operations."""

    def operation_helper(self, path: str | None = None, operations: dict | None = None,
                         **kwargs: Any) -> None:
        for method, operation in (operations or {}).items():
            example = REQUEST_EXAMPLES.get((path or "", method))
            content = operation.get("requestBody", {}).get("content", {}).get(JSON)
            if example is not None and content is not None:
                content.setdefault("example", example)

