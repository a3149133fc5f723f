"""schemathesis against ``/api/v1/openapi.json`` of a running uvicorn, with a real
token and real leads (of the token's organisation and of others), on both
backends: no server error, and every answer matches the document."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis import GenerationMode

from campaign.core.clock import utcnow
from campaign.portal import api

from .support.leads import add_lead
from .support.live import LiveServer


@pytest.fixture
def live_api(settings) -> Iterator[tuple[Any, str]]:
    with LiveServer(settings) as server:
        svc = server.services
        for orgs in (["olpe"], ["olpe"], ["attendorn"], ["suedwestfalen-agentur"]):
            server.call(add_lead, svc, orgs)
        server.call(add_lead, svc, ["olpe"], status="erased")
        token = server.call(api.create_token, svc.db, "olpe", now=utcnow())
        schema = schemathesis.openapi.from_url(server.url + "/api/v1/openapi.json")
        schema.config.update(base_url=server.url)
        yield schema, token


def test_the_api_answers_as_documented(live_api):
    schema, token = live_api
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.label for op in operations} == {"GET /api/v1/leads", "GET /api/v1/leads/{id}"}
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        for operation in operations:
            _explore(operation, mode, token)


def _explore(operation: Any, mode: GenerationMode, token: str) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @hypothesis_settings(max_examples=50, deadline=None, database=None,
                         suppress_health_check=list(HealthCheck))
    def check(case: Any) -> None:
        # A case that leaves out the credentials on purpose must go without them.
        negated = operation.schema.is_security_param_negated(case)
        case.call_and_validate(headers={} if negated else {"Authorization": f"Bearer {token}"})

    check()
