#!/usr/bin/env python3
"""Measure an embedding model's prior: what different people's, the same person's and copies of
one photo's face distances look like, on public data (a people folder: LFW layout).

A gallery of a few dozen faces says little about the distance between two different people (most
of its pairs may even be one person), so clustering and search lean on these numbers there
(faceexplore/faces/priors.py says how). Run once per model; the numbers ship in
``faceexplore/faces/model_priors.json`` with this command and the data.

- different people: one photo of each of ``--identities`` people drawn at random, every pair;
  a Gaussian fitted to the central quantiles (16-84 %, as ``impostors.fit_impostors`` does);
- the same person: two photos of each of ``--same-people`` people who have two or more;
- copies of one photo: ``--copies`` of the photos above, resized (x0.5, x0.75, x1.5) and
  recompressed as JPEG (quality 50 and 75, and x0.5 at quality 75), each against its original.
  The duplicate distance (below it two faces of different photos count once when the thresholds
  are fitted) is twice the largest copy distance measured, and never more than half the
  same-person distances' 1 % quantile: copies sit well inside it, different photos of one
  person well outside.

usage (from the repository root):
  python backend/benchmarks/model_prior.py ../shared/datasets/lfw-dev --write
"""

from __future__ import annotations

import argparse
import io
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "backend"))

from faceexplore.faces.priors import PRIORS_PATH  # noqa: E402
from faceexplore.people.impostors import FIT_QUANTILES, fit_impostors  # noqa: E402

PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png"}
QUANTILES = (0.001, 0.01, 0.05, 0.16, 0.5, 0.84, 0.95, 0.99)
COPY_VARIANTS = (
    ("resized x0.5", 0.5, None),
    ("resized x0.75", 0.75, None),
    ("resized x1.5", 1.5, None),
    ("JPEG q50", 1.0, 50),
    ("JPEG q75", 1.0, 75),
    ("x0.5 JPEG q75", 0.5, 75),
)


def central_embedding(pipeline, source):
    analysed = pipeline.analyse(source)
    if not analysed.faces:
        return None
    cx, cy = analysed.width / 2, analysed.height / 2
    off = [np.hypot((f.box[0] + f.box[2]) / 2 - cx, (f.box[1] + f.box[3]) / 2 - cy) for f in analysed.faces]
    return analysed.embeddings[int(np.argmin(off))].astype(np.float64)


def copy_bytes(path: Path, scale: float, quality: int | None) -> bytes:
    from PIL import Image

    img = Image.open(path).convert("RGB")
    if scale != 1.0:
        img = img.resize((round(img.width * scale), round(img.height * scale)), Image.LANCZOS)
    out = io.BytesIO()
    if quality is None:
        img.save(out, format="PNG")  # lossless: the resize alone
    else:
        img.save(out, format="JPEG", quality=quality)
    return out.getvalue()


def quantiles(d) -> dict:
    return {str(q): round(float(v), 4) for q, v in zip(QUANTILES, np.quantile(d, QUANTILES))}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("people", help="people folder, one sub-folder per person (LFW layout)")
    ap.add_argument("--identities", type=int, default=600, help="people for the different-people pairs (one photo each)")
    ap.add_argument("--same-people", type=int, default=150, help="people with two photos for the same-person pairs")
    ap.add_argument("--copies", type=int, default=20, help="photos copied (resized, recompressed) for the duplicate distance")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--write", action="store_true", help=f"write the numbers into {PRIORS_PATH.relative_to(REPO)}")
    args = ap.parse_args()

    import torch

    from faceexplore.faces.pipeline import FacePipeline
    from faceexplore.settings import Settings

    torch.set_num_threads(2)
    settings = Settings(index_workers=1)
    pipeline = FacePipeline.from_settings(settings)
    rng = np.random.default_rng(args.seed)
    people = sorted(p for p in Path(args.people).iterdir() if p.is_dir())
    photos = {p.name: sorted(f for f in p.iterdir() if f.suffix.lower() in PHOTO_SUFFIXES) for p in people}
    names = [n for n in photos if photos[n]]
    started = time.monotonic()

    chosen = rng.choice(len(names), min(args.identities, len(names)), replace=False)
    different, sources = [], []
    for i in chosen:
        f = photos[names[i]][0]
        e = central_embedding(pipeline, f)
        if e is not None:
            different.append(e)
            sources.append(f)
    D = np.array(different)
    iu = np.triu_indices(len(D), 1)
    diff_d = np.linalg.norm(D[iu[0]] - D[iu[1]], axis=1)
    model = fit_impostors(diff_d, np.zeros(0))
    print(f"different people: {len(D)} people, {len(diff_d):,} pairs ({time.monotonic() - started:.0f} s)", flush=True)

    several = [n for n in names if len(photos[n]) >= 2]
    same_d = []
    for i in rng.choice(len(several), min(args.same_people, len(several)), replace=False):
        a, b = (central_embedding(pipeline, f) for f in photos[several[i]][:2])
        if a is not None and b is not None:
            same_d.append(float(np.linalg.norm(a - b)))
    same_d = np.array(same_d)
    print(f"same person: {len(same_d)} pairs ({time.monotonic() - started:.0f} s)", flush=True)

    copy_d = {}
    for k in rng.choice(len(sources), min(args.copies, len(sources)), replace=False):
        for label, scale, quality in COPY_VARIANTS:
            e = central_embedding(pipeline, copy_bytes(sources[k], scale, quality))
            if e is not None:
                copy_d.setdefault(label, []).append(float(np.linalg.norm(e - D[k])))
    all_copies = np.concatenate([np.array(v) for v in copy_d.values()])
    duplicate_distance = min(2 * float(all_copies.max()), 0.5 * float(np.quantile(same_d, 0.01)))
    print(f"copies: {len(all_copies)} ({time.monotonic() - started:.0f} s)", flush=True)

    prior = {
        "different_people": {
            "mean": round(model.mean, 4),
            "std": round(model.std, 4),
            "fit": f"Gaussian fitted to the central quantiles {FIT_QUANTILES} of the pair distances",
            "sample_mean": round(float(diff_d.mean()), 4),
            "sample_std": round(float(diff_d.std()), 4),
            "quantiles": quantiles(diff_d),
            "pairs": int(len(diff_d)),
            "people": int(len(D)),
        },
        "same_person": {"pairs": int(len(same_d)), "quantiles": quantiles(same_d), "min": round(float(same_d.min()), 4)},
        "copies": {
            "photos": int(min(args.copies, len(sources))),
            "variants": {k: {"max": round(max(v), 4), "median": round(float(np.median(v)), 4)} for k, v in copy_d.items()},
            "max": round(float(all_copies.max()), 4),
        },
        "duplicate_distance": round(duplicate_distance, 4),
        "duplicate_distance_rule": "twice the largest copy distance, at most half the same-person 1% quantile",
        "command": "python backend/benchmarks/model_prior.py ../shared/datasets/lfw-dev --write"
        + (f" --identities {args.identities}" if args.identities != 600 else ""),
        "data": f"{Path(args.people).name}: {len(names)} people; seed {args.seed}",
        "machine": f"{platform.machine()}, {platform.processor() or platform.system()}",
        "measured": time.strftime("%Y-%m-%d"),
    }
    print(json.dumps({pipeline.model_name: prior}, indent=2))
    if args.write:
        existing = json.loads(PRIORS_PATH.read_text()) if PRIORS_PATH.exists() else {}
        existing[pipeline.model_name] = prior
        PRIORS_PATH.write_text(json.dumps(existing, indent=2) + "\n")
        print(f"written to {PRIORS_PATH}")


if __name__ == "__main__":
    main()
