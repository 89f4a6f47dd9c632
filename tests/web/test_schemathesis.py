"""Schemathesis against the application's own OpenAPI document, signed in as a member of staff who holds the
operator and approver roles (session cookie and CSRF header on every request), on both backends.

Every operation gets a bounded number of generated requests (derandomized, so CI replays the same ones): valid
ones (with the real case id for reads, so that they reach the data) and invalid ones.  Each response must not be
a server error and must conform to the schema the document declares for its status code.

The application runs as served, with its body limits: every generated body passes through them, and the case
upload (``POST /api/cases``, a small generated file) is fuzzed like the rest.

Left out: ``POST /api/cases/{case_id}/payment-results``, ``.../fair-fund/results`` and the failed firms'
claims, records and results (multipart uploads: slow to generate and covered by test_api, test_fairfund_web and
test_ipf_web), ``POST /api/cases/{case_id}/compute`` (starts a background computation thread), and
``DELETE /api/session`` (it would sign the fuzzing session out).
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error, response_schema_conformance
from websupport import Web

from redress.web.limits import BodyLimit
from redress.web.security import COOKIE

EXCLUDED = {("POST", "/api/cases/{case_id}/payment-results"),
            ("POST", "/api/cases/{case_id}/fair-fund/results"), ("POST", "/api/ipf/firms/{firm_id}/claims"),
            ("POST", "/api/ipf/firms/{firm_id}/records"), ("POST", "/api/ipf/firms/{firm_id}/results"),
            ("POST", "/api/cases/{case_id}/compute"), ("DELETE", "/api/session")}
EXAMPLES = 10


def staff_headers(web: Web) -> dict[str, str]:
    c = web.signed_in("maker")
    return {"Cookie": f"{COOKIE}={c.cookies.get(COOKIE)}", "X-CSRF-Token": c.headers["X-CSRF-Token"]}


def strategy(operation, web: Web, mode: GenerationMode):
    path_params = {p.name for p in operation.path_parameters}
    plain = operation.as_strategy(generation_mode=mode)
    if mode is GenerationMode.POSITIVE and operation.method.upper() == "GET" and "case_id" in path_params:
        real = {"case_id": web.case_id}
        if "investor_id" in path_params:
            real["investor_id"] = web.inv1
        if "fmt" in path_params:
            return st.one_of(operation.as_strategy(generation_mode=mode, path_parameters=dict(real, fmt="csv")),
                             operation.as_strategy(generation_mode=mode, path_parameters=dict(real, fmt="xlsx")),
                             plain)
        return st.one_of(operation.as_strategy(generation_mode=mode, path_parameters=real), plain)
    return plain


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda m: m.value)
def test_openapi_document_holds(web: Web, mode):
    assert any(m.cls is BodyLimit for m in web.app.user_middleware)
    schema = schemathesis.openapi.from_asgi("/openapi.json", web.app)
    headers = staff_headers(web)
    failures: list[str] = []
    tested = unsatisfiable = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in EXCLUDED:
            continue
        if mode is GenerationMode.NEGATIVE and not (operation.path_parameters or operation.query
                                                    or operation.body):
            continue                                   # nothing to make invalid
        tested += 1

        @given(case=strategy(operation, web, mode))
        @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None, print_blob=True,
                  suppress_health_check=list(HealthCheck))
        def run(case):
            case.call_and_validate(headers=dict(headers), checks=[not_a_server_error, response_schema_conformance])

        try:
            run()
        except Unsatisfiable:
            assert mode is GenerationMode.NEGATIVE, operation.path
            unsatisfiable += 1                         # e.g. only free-text path parameters: nothing is invalid
        except Exception as exc:  # noqa: BLE001 - collect every operation's failure, then report them all
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    assert tested - unsatisfiable >= (30 if mode is GenerationMode.POSITIVE else 10), (tested, unsatisfiable)
    assert not failures, "\n\n".join(failures)
