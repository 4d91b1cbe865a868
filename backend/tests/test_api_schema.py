"""schemathesis against the web API (WSGI, in process) over the synthetic gallery with the fake
pipeline: generated requests for every operation of /api/openapi.json, a bounded number each.
No answer may be a server error, and every answer must match the document (status, content
type, headers, body schema)."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from faceexplore.web.openapi_document import openapi_document
from tests.api_fixtures import build_gallery, make_app

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    return make_app(build_gallery(tmp_path_factory.mktemp("schemathesis")))


# The document needs no settings, index or models, so it is read at collection (the lazy
# fixture loader does not work with pytest 9); the requests go to the app over the gallery.
schema = schemathesis.openapi.from_dict(openapi_document())


@schema.parametrize()
@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_no_answer_breaks_the_document(case, app):
    case.call_and_validate(app=app, checks=CHECKS)
