#!/usr/bin/env python3
"""How small a face can be and still be found and recognised: the evidence behind the detector's
smallest face (``min_face_size``).

Two photos each of up to --count people of a people folder (LFW layout) are shrunk so that their
face is W pixels wide, for each W asked for, and go through FaceExplore's pipeline (MTCNN + the
default embedder). For each width: the share of photos whose face is found, and how well the
embeddings tell the same person from different people: ROC AUC over the same-person pairs against
every different-person pair, and the share of same-person pairs closer than all but 1% of the
different-person pairs (TAR at FAR 1%). A face that is not found counts as a miss in both.

Latest results, with the data and the machine: docs/quality.md, "Face size".

usage:
  python backend/benchmarks/face_size_benchmark.py ../shared/datasets/lfw-dev --widths 25 35 50 70
  python backend/benchmarks/face_size_benchmark.py ../shared/datasets/lfw-dev --detector-runtime torch
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import numpy as np
from PIL import Image


def main():
    from faceexplore.faces.pipeline import FacePipeline
    from faceexplore.settings import Settings

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("people", help="one sub-folder of photos per person")
    ap.add_argument("--count", type=int, default=300, help="people (two photos each)")
    ap.add_argument("--widths", type=int, nargs="+", default=[25, 35, 50, 70])
    ap.add_argument("--detector-runtime", choices=["openvino", "torch"], default=Settings().detector_runtime, help="what runs MTCNN")
    args = ap.parse_args()
    pairs = []
    for folder in sorted(Path(args.people).iterdir()):
        photos = sorted(p for p in folder.iterdir() if p.suffix.lower() in {".jpg", ".jpeg", ".png"}) if folder.is_dir() else []
        if len(photos) >= 2:
            pairs.append(photos[:2])
        if len(pairs) == args.count:
            break
    pipeline = FacePipeline.from_settings(Settings(detector_runtime=args.detector_runtime))

    # Each photo's face width at full size: its central face (the labelled person in LFW).
    native = {}
    for photo in (p for pair in pairs for p in pair):
        analysed = pipeline.analyse(str(photo))
        if analysed.faces:
            native[photo] = _central(analysed).width
    print(f"{len(pairs)} people, 2 photos each; face width at full size: median {np.median(list(native.values())):.0f} px")
    print("| face width px | found | ROC AUC | TAR at FAR 1% |")
    print("| --- | --- | --- | --- |")
    for width in args.widths:
        vectors, found = {}, 0
        for photo, face_width in native.items():
            img = Image.open(photo).convert("RGB")
            ratio = min(1.0, width / face_width)
            small = img.resize((max(1, round(img.width * ratio)), max(1, round(img.height * ratio))), Image.BICUBIC)
            buf = io.BytesIO()
            small.save(buf, "PNG")
            analysed = pipeline.analyse(buf.getvalue())
            if analysed.faces:
                found += 1
                vectors[photo] = analysed.embeddings[analysed.faces.index(_central(analysed))]
        same = [np.linalg.norm(vectors[a] - vectors[b]) if a in vectors and b in vectors else np.inf for a, b in pairs]
        firsts = [vectors.get(a) for a, _ in pairs]
        different = [
            np.linalg.norm(x - y) if x is not None and y is not None else np.inf for i, x in enumerate(firsts) for y in firsts[i + 1 :]
        ]
        same, different = np.array(same), np.array(different)
        auc = np.mean([(different > s).mean() + 0.5 * (different == s).mean() for s in same])
        cut = np.quantile(different[np.isfinite(different)], 0.01)
        print(f"| {width} | {found / len(native):.1%} | {auc:.3f} | {(same < cut).mean():.1%} |")


def _central(analysed):
    cx, cy = analysed.width / 2, analysed.height / 2
    return min(analysed.faces, key=lambda f: abs((f.box[0] + f.box[2]) / 2 - cx) + abs((f.box[1] + f.box[3]) / 2 - cy))


if __name__ == "__main__":
    main()
