"""Every error is JSON: ``{"error": {"code": "<snake_case>", "message": "<plain sentence>"}}``."""

from __future__ import annotations

import errno
import logging
import sqlite3

from flask import Flask, jsonify, request
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException

from .models import REQUEST_MODELS, Error, ErrorDetail

log = logging.getLogger(__name__)

# request.environ key: the form field a route takes its files in, for the too_many_parts message
UPLOAD_FIELD = "faceexplore.upload_field"

# Codes for the errors Flask/Werkzeug raise themselves (routing, limits).
HTTP_CODES = {
    400: ("bad_request", "The request could not be understood."),
    404: ("not_found", "There is nothing at this address."),
    405: ("method_not_allowed", "This address does not accept that method."),
    413: ("too_large", "The upload is too large."),
    415: ("unsupported_media_type", "That kind of request body is not accepted here."),
    500: ("server_error", "The server ran into a problem while handling this request."),
}


class ApiError(Exception):
    """An error for the visitor: HTTP status, a machine-readable code, a plain sentence. Every
    error the API answers with goes through this one shape (models.Error)."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}


def error_response(status: int, code: str, message: str):
    response = jsonify(Error(error=ErrorDetail(code=code, message=message)).model_dump(mode="json"))
    response.status_code = status
    return response


def request_error(exc: ValidationError) -> ApiError:
    """The ApiError for a request part that did not validate (flask-openapi3 calls this as its
    validation_error_callback; download.py for its JSON or form body): the first problem, in
    the words the request model gives for it. Pydantic's own text is not shown (it may quote
    the input at length)."""
    model = REQUEST_MODELS.get(exc.title)
    problems = exc.errors(include_url=False, include_input=False)
    first = problems[0] if problems else {"loc": (), "type": ""}
    field = str(first["loc"][0]) if first["loc"] else ""
    if model is None:
        return ApiError(400, "bad_request", "The request could not be understood.")
    code, message = model.error_for(field, first["type"])
    return ApiError(model.status, code, message)


def error_responses(described: dict[int, str]) -> dict:
    """OpenAPI responses for a route's errors: status -> the codes it answers with, as Error."""
    schema = {"$ref": "#/components/schemas/Error"}
    return {status: {"description": text, "content": {"application/json": {"schema": schema}}} for status, text in described.items()}


def raise_request_error(exc: ValidationError):
    raise request_error(exc)


def bad_request(code: str, message: str) -> ApiError:
    return ApiError(400, code, message)


def not_found(message: str = "There is nothing at this address.", code: str = "not_found") -> ApiError:
    return ApiError(404, code, message)


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        response = error_response(exc.status, exc.code, exc.message)
        response.headers.update(exc.headers)
        return response

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        status = exc.code or 500
        if status == 413:
            limit = request.max_content_length  # the app's, or the one this route set (upload.py)
            length = request.content_length
            if limit and length is not None and length <= limit:
                # under the size limit, so Werkzeug's form parser refused it: too many parts
                # (Request.max_form_parts) or a text field over max_form_memory_size
                field = request.environ.get(UPLOAD_FIELD)
                send = f"Send the photos in the field '{field}'" if field else "Send only the form's own fields"
                response = error_response(
                    413,
                    "too_many_parts",
                    f"The form has too many parts (at most {request.max_form_parts}) or a text field that is too long. "
                    f"{send} and nothing else.",
                )
            else:
                text = f"The upload is larger than the {limit // (1024 * 1024)} MB limit." if limit else HTTP_CODES[413][1]
                response = error_response(413, "too_large", text + " Try smaller copies of the photos.")
        else:
            code, message = HTTP_CODES.get(status, (_snake(exc.name), f"{exc.name}."))
            response = error_response(status, code, message)
        if status == 405 and getattr(exc, "valid_methods", None):
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        return response

    @app.errorhandler(RecursionError)
    def _nested_too_deeply(exc: RecursionError):
        # Only a visitor's input nested thousands deep gets here: the JSON parsers (a body, or a
        # form field flask-openapi3 reads as JSON) and pydantic recurse once per level.
        log.warning("refused a request nested too deeply to read: %s %s", request.method, request.path)
        return error_response(400, "bad_request", "The request is nested too deeply to be read.")

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        if _disk_full(exc):
            log.error("the disk is full: %s", exc)
            return error_response(
                503, "disk_full", "The server's disk is full, so it cannot store what this request needs. Try again later."
            )
        log.exception("unhandled error")
        return error_response(500, *HTTP_CODES[500])


def _disk_full(exc: BaseException) -> bool:
    """Out of disk space or quota: the cache's files (OSError) or SQLite ("database or disk is full")."""
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    return isinstance(exc, sqlite3.OperationalError) and "full" in str(exc)


def _snake(name: str) -> str:
    return "_".join(name.lower().replace("-", " ").split()) or "error"
