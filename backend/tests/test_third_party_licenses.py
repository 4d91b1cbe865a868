"""The licence: the project is GPL-3.0-or-later (LICENSE, backend/pyproject.toml,
frontend/package.json and its lock), and THIRD_PARTY_LICENSES.md is what
services/third_party_licenses.py generates from the requirements and the frontend's lock file."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]
GENERATOR = REPOSITORY / "services" / "third_party_licenses.py"


def test_the_project_is_gpl_3_or_later_everywhere_it_says():
    licence = (REPOSITORY / "LICENSE").read_text()
    assert licence.lstrip().startswith("GNU GENERAL PUBLIC LICENSE") and "Version 3, 29 June 2007" in licence
    assert "END OF TERMS AND CONDITIONS" in licence  # the whole text
    assert tomllib.loads((REPOSITORY / "backend" / "pyproject.toml").read_text())["project"]["license"] == "GPL-3.0-or-later"
    assert json.loads((REPOSITORY / "frontend" / "package.json").read_text())["license"] == "GPL-3.0-or-later"
    lock = json.loads((REPOSITORY / "frontend" / "package-lock.json").read_text())
    assert lock["packages"][""]["license"] == "GPL-3.0-or-later"


def test_third_party_licenses_is_what_the_generator_writes():
    r = subprocess.run([sys.executable, str(GENERATOR), "--check"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, f"{r.stderr}regenerate it: python services/third_party_licenses.py"


def test_it_lists_the_libraries_the_site_ships_and_the_models_weights():
    sys.path.insert(0, str(GENERATOR.parent))
    try:
        import third_party_licenses as generator
    finally:
        sys.path.remove(str(GENERATOR.parent))
    python = {name.lower(): licence for name, _, licence in generator.python_distributions()}
    page = {name: licence for name, _, licence in generator.frontend_packages()}
    assert "flask" in python and "numpy" in python and "facenet-pytorch" in python
    assert "ruff" in python  # named by requirements.txt
    assert page["lightgallery"] == "GPLv3" and "react" in page
    assert "vitest" not in page and "typescript" not in page  # development tools are not shipped
    text = (REPOSITORY / "THIRD_PARTY_LICENSES.md").read_text()
    for weights in ("dlib_face_recognition_resnet_model_v1.dat", "shape_predictor_5_face_landmarks.dat", "pnet,rnet,onet"):
        assert weights in text
