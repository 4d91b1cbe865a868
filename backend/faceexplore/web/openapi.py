"""GET /api/openapi.json: a hand-written OpenAPI 3 description of every route."""

from __future__ import annotations

from flask import Blueprint, jsonify

from .download import MAX_PHOTOS
from .search import MAX_SAMPLES
from .serialize import MAX_PER_PAGE
from .thumbnails import FACE_SIZES, THUMBNAIL_SIZES

bp = Blueprint("openapi", __name__)


def _ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema, description="OK"):
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description):
    return _json(_ref("Error"), description)


def _jpeg(description):
    return {"description": description, "content": {"image/jpeg": {"schema": {"type": "string", "format": "binary"}}}}


PAGE_PARAMS = [
    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "default": 1}},
    {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": 48}},
]


def _id_param(name, description):
    return {"name": name, "in": "path", "required": True, "description": description, "schema": {"type": "integer"}}


BOX = {"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 4, "description": "[x1, y1, x2, y2] in the photo's pixels"}
NULLABLE_BOX = {**BOX, "nullable": True}

SCHEMAS = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {
                        "type": "string",
                        "description": "snake_case, e.g. no_file, too_many_files, too_large, not_an_image, "
                        "no_face, bad_face_choice, bad_page, not_found, not_indexed",
                    },
                    "message": {"type": "string", "description": "a plain sentence for a person"},
                },
            }
        },
    },
    "Box": BOX,
    "Photo": {
        "type": "object",
        "required": ["id", "path", "url", "thumbnail_url", "placeholder_url", "width", "height", "confidence", "box"],
        "properties": {
            "id": {"type": "integer"},
            "path": {"type": "string", "description": "relative to the gallery, '/'-separated"},
            "url": {"type": "string", "example": "/gallery/group/bbt4.jpg"},
            "thumbnail_url": {"type": "string", "example": "/cache/thumbnails/400/7.jpg"},
            "placeholder_url": {"type": "string", "example": "/cache/thumbnails/32/7.jpg"},
            "width": {"type": "integer", "nullable": True},
            "height": {"type": "integer", "nullable": True},
            "confidence": {"type": "number", "nullable": True, "minimum": 0, "maximum": 1},
            "box": NULLABLE_BOX,
        },
    },
    "Person": {
        "type": "object",
        "required": ["id", "face_count", "photo_count", "cover_url", "flags"],
        "properties": {
            "id": {"type": "integer"},
            "face_count": {"type": "integer"},
            "photo_count": {"type": "integer"},
            "cover_url": {"type": "string", "nullable": True, "example": "/cache/faces/160/12.jpg"},
            "flags": {"type": "array", "items": {"type": "string", "enum": ["may_be_two_people", "may_be_split"]}},
        },
    },
    "Paginated": {
        "type": "object",
        "required": ["page", "per_page", "total", "pages"],
        "properties": {k: {"type": "integer"} for k in ("page", "per_page", "total", "pages")},
    },
    "SampleFace": {
        "type": "object",
        "properties": {"index": {"type": "integer"}, "box": BOX, "probability": {"type": "number"}},
    },
    "Sample": {
        "type": "object",
        "required": ["index", "filename", "width", "height", "faces", "used_face", "error"],
        "properties": {
            "index": {"type": "integer"},
            "filename": {"type": "string"},
            "width": {"type": "integer"},
            "height": {"type": "integer"},
            "faces": {"type": "array", "items": _ref("SampleFace")},
            "used_face": {"type": "integer", "nullable": True},
            "error": {"allOf": [_ref("Error")], "nullable": True, "description": "the inner {code, message} object, e.g. no_face"},
        },
    },
    "Rule": {
        "type": "object",
        "required": ["name", "threshold", "false_alarm_rate", "text"],
        "properties": {
            "name": {"type": "string", "example": "open-set"},
            "threshold": {"type": "number", "nullable": True},
            "false_alarm_rate": {"type": "number"},
            "best_score": {"type": "number", "nullable": True},
            "text": {"type": "string"},
        },
    },
    "SearchResponse": {
        "type": "object",
        "required": ["found", "confidence", "rule", "message", "person_id", "samples", "photos"],
        "properties": {
            "found": {"type": "boolean"},
            "confidence": {"type": "number", "minimum": 0, "maximum": 1},
            "rule": _ref("Rule"),
            "message": {"type": "string"},
            "person_id": {"type": "integer", "nullable": True},
            "samples": {"type": "array", "items": _ref("Sample")},
            "photos": {"type": "array", "items": _ref("Photo")},
        },
    },
    "PhotoFace": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "box": BOX,
            "probability": {"type": "number"},
            "person_id": {"type": "integer", "nullable": True},
            "crop_url": {"type": "string"},
        },
    },
    "Status": {
        "type": "object",
        "properties": {
            "photos": {"type": "integer"},
            "faces": {"type": "integer"},
            "people": {"type": "integer"},
            "model": {"type": "string", "nullable": True},
            "threshold": {"type": "number", "nullable": True},
            "threshold_method": {"type": "string", "nullable": True},
            "last_indexed": {"type": "string", "format": "date-time", "nullable": True},
            "search_threshold": {"type": "number", "nullable": True},
            "false_alarm_rate": {"type": "number"},
        },
    },
}

PATHS = {
    "/api/search": {
        "post": {
            "summary": "Find a person's photos from 1 to 10 sample photos of them",
            "description": "The samples are analysed in memory and never stored. Several samples of one person are combined.",
            "requestBody": {
                "required": True,
                "content": {
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "required": ["images"],
                            "properties": {
                                "images": {
                                    "type": "array",
                                    "minItems": 1,
                                    "maxItems": MAX_SAMPLES,
                                    "items": {"type": "string", "format": "binary"},
                                },
                                "faces": {
                                    "type": "array",
                                    "items": {"type": "string"},
                                    "description": "one per image, in order: the index of the face to use, or '' for the largest",
                                },
                                "false_alarm_rate": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
                            },
                        }
                    }
                },
            },
            "responses": {
                "200": _json(_ref("SearchResponse")),
                "400": _error("no_file, too_many_files, bad_face_choice, bad_false_alarm_rate"),
                "413": _error("too_large: the upload exceeds the size limit"),
                "422": _error("not_an_image (a sample is not a readable image), no_face (no sample has a face)"),
                "503": _error("not_indexed: the gallery has no index yet"),
            },
        }
    },
    "/api/download": {
        "post": {
            "summary": f"The chosen photos as one zip (at most {MAX_PHOTOS})",
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["photo_ids"],
                            "properties": {"photo_ids": {"type": "array", "items": {"type": "integer"}}},
                        }
                    },
                    "application/x-www-form-urlencoded": {
                        "schema": {"type": "object", "properties": {"photo_ids": {"type": "array", "items": {"type": "integer"}}}}
                    },
                },
            },
            "responses": {
                "200": {
                    "description": "faceexplore-photos.zip, entries named by their path in the gallery",
                    "headers": {
                        "Content-Disposition": {"schema": {"type": "string"}, "example": "attachment; filename=faceexplore-photos.zip"}
                    },
                    "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
                },
                "400": _error("no_photos, bad_photo_ids, unknown_photo, too_many_photos"),
            },
        }
    },
    "/api/people": {
        "get": {
            "summary": "The people of the gallery (clusters of faces), largest first",
            "parameters": PAGE_PARAMS,
            "responses": {
                "200": _json(
                    {"allOf": [_ref("Paginated"), {"type": "object", "properties": {"people": {"type": "array", "items": _ref("Person")}}}]}
                ),
                "400": _error("bad_page"),
            },
        }
    },
    "/api/people/{person_id}": {
        "get": {
            "summary": "One person and the photos they are in (box: their face)",
            "parameters": [_id_param("person_id", "a person id from /api/people or a search"), *PAGE_PARAMS],
            "responses": {
                "200": _json(
                    {
                        "allOf": [
                            _ref("Paginated"),
                            {
                                "type": "object",
                                "properties": {"person": _ref("Person"), "photos": {"type": "array", "items": _ref("Photo")}},
                            },
                        ]
                    }
                ),
                "400": _error("bad_page"),
                "404": _error("not_found"),
            },
        }
    },
    "/api/photos/{photo_id}": {
        "get": {
            "summary": "One photo and its faces",
            "parameters": [_id_param("photo_id", "a photo id")],
            "responses": {
                "200": _json(
                    {"type": "object", "properties": {"photo": _ref("Photo"), "faces": {"type": "array", "items": _ref("PhotoFace")}}}
                ),
                "404": _error("not_found"),
            },
        }
    },
    "/api/status": {"get": {"summary": "What the index holds", "responses": {"200": _json(_ref("Status"))}}},
    "/api/health": {
        "get": {
            "summary": "The worker is up",
            "responses": {"200": _json({"type": "object", "properties": {"status": {"type": "string", "enum": ["ok"]}}})},
        }
    },
    "/api/openapi.json": {"get": {"summary": "This description", "responses": {"200": _json({"type": "object"})}}},
    "/gallery/{relative}": {
        "get": {
            "summary": "A photo of the gallery, by its path in the gallery (photo types only, nothing outside it)",
            "parameters": [{"name": "relative", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {"200": {"description": "the photo file"}, "404": _error("not_found")},
        }
    },
    "/cache/thumbnails/{size}/{photo_id}.jpg": {
        "get": {
            "summary": "A photo's thumbnail (longest side `size`), made once and cached",
            "parameters": [
                {"name": "size", "in": "path", "required": True, "schema": {"type": "integer", "enum": list(THUMBNAIL_SIZES)}},
                _id_param("photo_id", "a photo id"),
            ],
            "responses": {"200": _jpeg("the thumbnail"), "404": _error("not_found: unknown photo or size")},
        }
    },
    "/cache/faces/{size}/{face_id}.jpg": {
        "get": {
            "summary": "A square crop of one face, made once and cached",
            "parameters": [
                {"name": "size", "in": "path", "required": True, "schema": {"type": "integer", "enum": list(FACE_SIZES)}},
                _id_param("face_id", "a face id"),
            ],
            "responses": {"200": _jpeg("the face crop"), "404": _error("not_found: unknown face or size")},
        }
    },
    "/": {
        "get": {
            "summary": "The web app (frontend/dist/index.html), or a JSON note when it is not built",
            "responses": {"200": {"description": "index.html, or JSON"}},
        }
    },
    "/{path}": {
        "get": {
            "summary": "The web app's files and client-side routes (index.html); 404 under /api, /gallery, /cache",
            "parameters": [{"name": "path", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {"200": {"description": "a file of the built frontend, or index.html"}, "404": _error("not_found")},
        }
    },
}


def openapi_spec() -> dict:
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "FaceExplore API",
            "version": "1",
            "description": 'Face search over a photo gallery. Every error is {"error": {"code", "message"}}.',
        },
        "paths": PATHS,
        "components": {"schemas": SCHEMAS},
    }


@bp.get("/api/openapi.json")
def openapi():
    return jsonify(openapi_spec())
