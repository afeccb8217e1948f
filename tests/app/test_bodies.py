"""Deeply nested JSON is a 400 problem+json, never a 500 (RecursionError)."""

from __future__ import annotations

import json

import pytest

from app.bodies import MAX_JSON_DEPTH, json_depth_exceeds


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("body, deep", [
    (nested(MAX_JSON_DEPTH), False),
    (nested(MAX_JSON_DEPTH + 1), True),
    ('{"a":' * 40 + "1" + "}" * 40, True),
    # Brackets inside strings, escaped quotes included, are text, not nesting.
    (json.dumps({"note": "[" * 100 + '\\"' + "{" * 100}), False),
    (json.dumps(["\\", "[" * 100]), False),
    ("[" + ",".join(["[]"] * 40) + "]", False),
])
def test_json_depth_is_counted_on_the_raw_bytes(body, deep):
    assert json_depth_exceeds(body.encode()) is deep
    assert json_depth_exceeds(body.encode()) == (not _parses_within(body, MAX_JSON_DEPTH))


def _parses_within(body: str, limit: int) -> bool:
    def depth(value) -> int:
        if isinstance(value, list):
            return 1 + max(map(depth, value), default=0)
        if isinstance(value, dict):
            return 1 + max(map(depth, value.values()), default=0)
        return 0
    return depth(json.loads(body)) <= limit


@pytest.fixture
def client(tmp_path):
    from app import create_app

    return create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}).test_client()


@pytest.mark.parametrize("path, method", [
    ("/api/v1/placement-requests", "post"), ("/api/v1/policy", "put"),
    ("/api/v1/units/u1", "patch"), ("/api/v1/batch-proposals", "post"),
])
@pytest.mark.parametrize("body", [nested(30_000), '{"a":' * 10_000 + "1" + "}" * 10_000])
def test_deeply_nested_json_is_400_problem_json(client, path, method, body):
    answer = getattr(client, method)(path, data=body, content_type="application/json",
                                     headers={"Authorization": "Bearer nobody"})
    assert answer.status_code == 400, answer.get_data(as_text=True)
    assert answer.mimetype == "application/problem+json"
    assert "nests deeper than" in answer.get_json()["detail"]
