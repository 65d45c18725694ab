"""Schemathesis over the whole OpenAPI document, against a real central on SQLite and on
PostgreSQL: every phase it runs offline (examples, coverage, fuzzing, stateful), a bounded
number of examples, a real integration key for /v1/oms and a real device token for /v1/sync.

It must find no server error (no 5xx) and no schema violation: every answer's status is
documented, and its body and content type are the documented ones. `STOREAPP_FUZZ_EXAMPLES`
raises the number of examples per operation for a longer run by hand.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events, from_schema
from schemathesis.schemas import BaseSchema

from tests.support.central import Central
from tests.support.device import RawDevice

CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
]
EXAMPLES = int(os.environ.get("STOREAPP_FUZZ_EXAMPLES", "3"))


def test_schemathesis_finds_no_server_error_and_no_schema_violation(
    any_central: Central, tmp_path: Path
) -> None:
    store = any_central.new_store()
    device = RawDevice(any_central, store)
    config = SchemathesisConfig.from_dict(
        {
            "cache": {"enabled": False},
            "reports": {"directory": str(tmp_path / "reports")},
            "generation": {"max-examples": EXAMPLES},
            "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
            "operations": [
                {
                    "include-path-regex": "^/v1/oms/",
                    "headers": {"Authorization": f"Bearer {any_central.key}"},
                },
                {
                    "include-path-regex": "^/v1/sync/",
                    "headers": {"Authorization": f"Bearer {device.token}"},
                },
            ],
        }
    )
    schema: BaseSchema = schemathesis.openapi.from_url(
        f"{any_central.url}/openapi.json", config=config
    )
    # the event stream never ends by design (a poke per change): it has its own contract test
    schema = schema.exclude(path="/v1/sync/events")
    failures: Counter[str] = Counter()
    errors: list[str] = []
    phases: dict[str, str] = {}
    try:
        for event in from_schema(schema).execute():
            if isinstance(event, events.ScenarioFinished | events.FuzzScenarioFinished):
                for checks in event.recorder.checks.values():
                    for check in checks:
                        if check.failure_info is not None:
                            failure = check.failure_info.failure
                            failures[
                                f"{event.recorder.label}: {check.name}: {failure.title}: "
                                f"{str(failure.message)[:200]}"
                            ] += 1
            elif isinstance(event, events.NonFatalError | events.FatalError):
                errors.append(repr(event)[:500])
            elif isinstance(event, events.PhaseFinished):
                phases[event.phase.name.value] = event.status.value
    finally:
        device.close()
    assert dict(failures) == {}
    assert errors == []
    # examples, coverage, fuzzing and stateful all ran (examples has nothing when no
    # operation carries an explicit example, and is then skipped)
    assert {phases.get(p) for p in ("coverage", "fuzzing", "stateful")} == {"success"}, phases
