"""Print the API's OpenAPI document (what /api/openapi.json serves), without settings, an index
or face models: ``python -m faceexplore.web.openapi_document > frontend/openapi.json``."""

from __future__ import annotations

import json
import sys


def openapi_document() -> dict:
    from .app import new_app

    return new_app().api_doc


def main() -> int:
    sys.stdout.write(json.dumps(openapi_document(), indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
