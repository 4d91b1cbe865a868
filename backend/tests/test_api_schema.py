"""schemathesis against the web API (WSGI, in process) over the synthetic gallery with the fake
pipeline: generated requests for every operation of /api/openapi.json, valid and invalid ones, a
bounded number each, with every check schemathesis has (its CLI's `--checks all`), once as a
visitor and once as the logged-in organiser (the session cookie and X-CSRF-Token, the document's
security schemes), and as a visitor of an app that limits rates itself (429s). No answer may be a
server error, every answer must match the document (status, content type, headers, body, Allow),
requests the document allows must be accepted and those it does not must be refused, and
operations that declare the organiser's credentials must refuse requests without them."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.config import SchemathesisConfig

from faceexplore.web.openapi_document import openapi_document
from faceexplore.web.session import auth
from faceexplore.web.session.routes import CSRF_HEADER, SECURITY_SCHEMES
from tests.api_fixtures import ORGANISER_PASSWORD, build_gallery, make_app

# The statuses that say "understood, but no": a request the schema allows may still name what is
# not there (404), need the organiser (401, 403), clash with the people as they are (409) or hold
# a photo without a face (422: its content, which no schema can describe).
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx"]
CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {
            "positive_data_acceptance": {"expected-statuses": ACCEPTED},
            # 413: a form with far more photo_ids than maxItems has more parts than the form parser reads
            "negative_data_rejection": {"expected-statuses": ["400", "401", "403", "404", "405", "409", "413", "415", "422", "429"]},
        },
        "operations": [
            {
                # a token the server did not issue (any string the schema allows) is refused as
                # unreadable (400 invalid_token, bad_link; documented): the schema cannot say
                # which strings the server signed; and ids not in the gallery are unknown_photo
                "include-operation-id": ["confirmCandidate", "downloadByLink", "downloadPhotos", "downloadLinks", "removeMe", "saveSearch"],
                "checks": {"positive_data_acceptance": {"expected-statuses": [*ACCEPTED, "400", "410"]}},
            }
        ],
    }
)

# One app over one synthetic gallery for the module, made when it is collected: schemathesis
# sends its checks' own requests (without the organiser's credentials, with other methods) to the
# schema's app, and asks for the organiser's credentials while collecting.
_FOLDER = Path(tempfile.mkdtemp(prefix="faceexplore-schemathesis-"))
atexit.register(shutil.rmtree, _FOLDER, True)  # also when the module is collected but not run
_GALLERY = build_gallery(_FOLDER)
auth.set_password(_GALLERY.settings.data_dir, ORGANISER_PASSWORD)
APP = make_app(_GALLERY)
visitor_schema = schemathesis.openapi.from_dict(openapi_document(), config=CONFIG)
organiser_schema = schemathesis.openapi.from_dict(openapi_document(), config=CONFIG)
visitor_schema.app = organiser_schema.app = APP
# the default setting, rate_limits = "app" (the others have nginx's "off"): 429s where documented
limited_schema = schemathesis.openapi.from_dict(openapi_document(), config=CONFIG)
limited_schema.app = make_app(_GALLERY, rate_limits="app")


@pytest.fixture(scope="module")
def app():
    return APP


@organiser_schema.auth(refresh_interval=None)
class OrganiserCredentials:
    """The organiser's session cookie and CSRF token; logged in again whenever the session no
    longer is the organiser's (a generated DELETE /api/session logs it out)."""

    client = None
    csrf = None

    def get(self, case, ctx):
        cls = type(self)
        if cls.client is None or not cls.client.get("/api/session").get_json()["organiser"]:
            cls.client = APP.test_client()
            r = cls.client.post("/api/session", json={"password": ORGANISER_PASSWORD})
            assert r.status_code == 200, r.get_data(as_text=True)
            cls.csrf = r.get_json()["csrf_token"]
        cookie = SECURITY_SCHEMES["organiserSession"]["name"]
        return cls.client.get_cookie(cookie).value, cls.csrf

    def set(self, case, data, ctx):
        session_cookie, csrf = data
        case.cookies = {**(case.cookies or {}), SECURITY_SCHEMES["organiserSession"]["name"]: session_cookie}
        case.headers = {**(case.headers or {}), CSRF_HEADER: csrf}


EXAMPLES = settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))


@visitor_schema.parametrize()
@EXAMPLES
def test_a_visitor_gets_what_the_document_says(case, app):
    case.call_and_validate(app=app)


@organiser_schema.parametrize()
@EXAMPLES
def test_the_organiser_gets_what_the_document_says(case, app):
    case.call_and_validate(app=app)


@limited_schema.parametrize()
@EXAMPLES
def test_a_visitor_of_an_app_that_limits_rates_gets_what_the_document_says(case):
    case.call_and_validate(app=limited_schema.app)


def test_every_check_schemathesis_has_is_on():
    load_all_checks()
    names = [check.__name__ for check in CHECKS.get_all()]
    checks = CONFIG.projects.get_default().checks
    assert {"positive_data_acceptance", "negative_data_rejection", "ignored_auth", "allow_header_conformance"} <= set(names)
    assert [name for name in names if not checks.get_by_name(name=name).enabled] == []
