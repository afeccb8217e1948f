"""Fuzz every endpoint of the OpenAPI document with schemathesis, in-process over WSGI.

As an admin and as a crisis worker, each operation gets generated requests, valid ones and
invalid ones: half with random path ids (mostly 404s), half aimed at real objects so the
handlers run deep. Every
answer must be free of 5xx and conform to the document: a documented status code, the
documented content type, a body valid against the response schema. Bounded in examples per
operation, so the whole test stays well under a minute on two cores. The number of cases
and failures goes to the terminal summary (see `pytest_terminal_summary` in conftest.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
# Valid requests (positive) reach the handlers; invalid ones (negative) the validation.
EXAMPLES = {GenerationMode.POSITIVE: 10, GenerationMode.NEGATIVE: 6}
ROLES = ("admin", "crisis_worker")
PATH_PARAMETER = re.compile(r"{(\w+)}")


def fuzz_settings(mode: GenerationMode):
    return settings(max_examples=EXAMPLES[mode], deadline=None, database=None,
                    derandomize=True, phases=[Phase.explicit, Phase.generate],
                    suppress_health_check=list(HealthCheck))


def failure_text(error: BaseException) -> str:
    return " ".join(str(error).split())[:300]


@dataclass
class Tally:
    cases: int = 0
    failures: dict = field(default_factory=dict)


def fuzz_operation(operation, ids: dict, role: str, headers: dict, tally: Tally,
                   mode: GenerationMode = GenerationMode.POSITIVE) -> None:
    """Send generated requests to one operation as one caller; note what fails."""
    real = {name: ids[name] for name in PATH_PARAMETER.findall(operation.path)}
    strategy = st.one_of(operation.as_strategy(mode),
                         operation.as_strategy(mode, path_parameters=real))

    @fuzz_settings(mode)
    @given(case=strategy)
    def run(case):
        tally.cases += 1
        try:
            response = case.call(headers=headers)
            case.validate_response(response, checks=CHECKS, headers=headers)
        # One finding per operation and kind is enough to find the bug.
        except (Exception, BaseExceptionGroup) as error:
            key = (role, operation.label, type(error).__name__)
            tally.failures.setdefault(key, failure_text(error))

    try:
        run()
    except Unsatisfiable:  # nothing to make invalid (no parameters, no body): nothing to do
        assert mode is GenerationMode.NEGATIVE


@pytest.mark.slow
def test_fuzzing_finds_no_server_error_and_no_schema_mismatch(app, world, record_property):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    tally = Tally()
    for mode in EXAMPLES:
        for role in ROLES:
            for result in schema.get_all_operations():
                fuzz_operation(result.ok(), world["ids"], role, world["headers"][role], tally,
                               mode)
    record_property("fuzz_cases", tally.cases)
    record_property("fuzz_failures", len(tally.failures))
    print(f"schemathesis: {tally.cases} cases, {len(tally.failures)} failures")
    report = "\n".join(f"{key}: {text}" for key, text in sorted(tally.failures.items()))
    assert not tally.failures, f"{len(tally.failures)} fuzzing failures:\n{report}"


def test_the_fuzzer_reports_a_planted_server_error(app, world, monkeypatch):
    from api.resources import regions

    def broken(_session):
        raise RuntimeError("planted")

    monkeypatch.setattr(regions, "list_regions", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # answer 500, as in production
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    tally = Tally()
    fuzz_operation(schema["/api/v1/regions"]["GET"], world["ids"], "admin",
                   world["headers"]["admin"], tally)
    assert tally.cases > 0
    assert [key[1] for key in tally.failures] == ["GET /api/v1/regions"]
    assert "500" in next(iter(tally.failures.values()))
