"""GET /api/openapi.json: the API's OpenAPI 3.1 document, generated from the routes' models."""

from __future__ import annotations

from flask import current_app, jsonify
from flask_openapi3 import APIBlueprint

bp = APIBlueprint("document", __name__)

DOCUMENT_RESPONSE = {
    "description": "This document (OpenAPI 3.1)",
    "content": {"application/json": {"schema": {"type": "object"}}},
}


@bp.get("/api/openapi.json", operation_id="openapiDocument", summary="This description of the API", responses={200: DOCUMENT_RESPONSE})
def openapi_json():
    return jsonify(current_app.api_doc)
