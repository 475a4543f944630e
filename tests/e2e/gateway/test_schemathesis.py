"""Property-based API tests: schemathesis against the running gateway's /openapi.json.

At least 50 generated requests per operation, with a token of a role every user route admits
(admin); every response must be free of 5xx and conform to the documented status codes,
content types and schemas.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

from tests.e2e.conftest import GatewayProcess

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="session")
def api_schema(gateway_process: GatewayProcess) -> Any:
    return schemathesis.openapi.from_url(f"{gateway_process.base_url}/openapi.json")


CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
]


def test_every_operation_conforms_and_never_fails_with_5xx(
    api_schema: Any, gateway_process: GatewayProcess
) -> None:
    headers = gateway_process.auth("admin", sub="schemathesis")
    failures: dict[str, str] = {}
    calls: dict[str, dict[int, int]] = {}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 18

    for operation in operations:

        @settings(
            max_examples=50,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def run(case: Any) -> None:
            response = case.call_and_validate(
                headers={**(case.headers or {}), **headers}, checks=CHECKS, timeout=30
            )
            seen = calls.setdefault(case.operation.label, {})
            seen[response.status_code] = seen.get(response.status_code, 0) + 1

        try:
            run()
        except Exception as exc:  # collected so one report names every failing operation
            failures[operation.label] = str(exc)[:2000]
    # Each operation really ran its examples (hypothesis may stop early on tiny input spaces).
    assert all(sum(calls.get(op.label, {}).values()) >= 1 for op in operations), calls
    assert not failures, "\n\n".join(f"{k}:\n{v}" for k, v in failures.items())
