"""Property-based API testing against our own OpenAPI: no input may produce a 5xx.

Bounded (a few dozen examples per operation) so the whole run stays well under a minute.
JWT checks are off here; the JWT matrix is in test_security.py.
"""

from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402

from workup.service.app import create_app  # noqa: E402
from workup.service.config import Settings  # noqa: E402


def _app():
    import tempfile
    from pathlib import Path

    tmp = Path(tempfile.mkdtemp(prefix="workup-schemathesis-"))
    return create_app(Settings(dev_insecure=True, audit_path=tmp / "audit.sqlite3"))


schema = schemathesis.openapi.from_asgi("/openapi.json", _app())


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_input_makes_the_service_fail(case):
    response = case.call()
    case.validate_response(response, checks=[not_a_server_error])
    if response.status_code >= 400:
        body = response.json()
        assert set(body) == {"error"} and body["error"]["code"]
