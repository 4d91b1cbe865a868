#!/usr/bin/env python3
"""MTCNN's pyramid levels averaged from halvings of the photo (``reducing_gap``, as
faceexplore.faces.mtcnn makes them) against every level averaged from the photo itself (as before),
one thread: the figures behind ``PYRAMID_REDUCING_GAP`` (latest results in docs/speed.md,
"Faster detection").

Every --every-th photo of GALLERY (an event gallery made by make_event_gallery.py: its
truth.json names the people pasted in each photo), shrunk to 1600 px as indexing does, goes
through the cascade (OpenVINO, smallest face 20 px) with each reducing gap asked for and with
none. The detectors take turns photo by photo (in a rotating order), so other load on the machine
falls on them alike. For each gap: ms a photo, faces found, true faces found (per photo, the
fewer of faces found and people pasted), and, against the faces found with no gap, faces
matched (IoU over 0.5; the largest and median difference of their box corners, the
smallest IoU), lost and new (each listed with its photo, width and probability); and where the
time went: the pyramid's levels, PNet, RNet's and ONet's crops, RNet, ONet and the rest (box
arithmetic, non-maximum suppression).

usage:
  python backend/benchmarks/mtcnn_pyramid.py /work/data/event --every 20 --gaps 3 2
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import torch


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("gallery", help="an event gallery's folder (gallery/ and truth.json)")
    ap.add_argument("--every", type=int, default=20, help="take every N-th photo (sorted by path)")
    ap.add_argument("--gaps", type=float, nargs="+", default=[3.0])
    args = ap.parse_args()
    torch.set_num_threads(1)

    from faceexplore.faces.images import load_photo
    from faceexplore.faces.mtcnn import MTCNN

    truth = json.loads((Path(args.gallery) / "truth.json").read_text())["photos"]
    chosen = sorted(truth)[:: args.every]
    variants = {None: MTCNN(min_face_size=20, runtime="openvino", reducing_gap=None)}
    variants.update({gap: MTCNN(min_face_size=20, runtime="openvino", reducing_gap=gap) for gap in args.gaps})
    seconds = dict.fromkeys(variants, 0.0)
    stages = {gap: _time_stages(detector) for gap, detector in variants.items()}
    found = {gap: 0 for gap in variants}
    true_found = {gap: 0 for gap in variants}
    matched, lost, new, box_diff = ({gap: [] for gap in args.gaps} for _ in range(4))
    print(f"{len(chosen)} photos (every {args.every}th of {Path(args.gallery) / 'gallery'}), OpenVINO, one thread")
    print(f"load average before: {_load()}")
    for i, rel in enumerate(chosen):
        pixels = load_photo(Path(args.gallery) / rel, max_side=1600).pixels
        faces = {}
        order = list(variants)
        for gap in order[i % len(order) :] + order[: i % len(order)]:
            start = time.perf_counter()
            boxes, probs, _ = variants[gap].detect(pixels)
            seconds[gap] += time.perf_counter() - start
            faces[gap] = (np.zeros((0, 4)), np.zeros(0)) if boxes is None else (boxes, probs)
        for gap, (boxes, _) in faces.items():
            found[gap] += len(boxes)
            true_found[gap] += min(len(boxes), len(truth[rel]))
        reference, reference_probs = faces[None]
        for gap in args.gaps:
            boxes, probs = faces[gap]
            pairs = _match(reference, boxes)
            matched[gap].append(len(pairs))
            box_diff[gap].extend((float(np.abs(reference[a] - boxes[b]).max()), _iou(reference[a], boxes[b])) for a, b in pairs)
            unmatched_reference = sorted(set(range(len(reference))) - {a for a, _ in pairs})
            unmatched = sorted(set(range(len(boxes))) - {b for _, b in pairs})
            lost[gap].extend((rel, *_describe(reference[a], reference_probs[a])) for a in unmatched_reference)
            new[gap].extend((rel, *_describe(boxes[b], probs[b])) for b in unmatched)
    n, people = len(chosen), sum(len(truth[rel]) for rel in chosen)
    print(f"{people} people pasted in them; load average after: {_load()}")
    for gap in variants:
        line = f"reducing gap {gap}: {1000 * seconds[gap] / n:6.1f} ms a photo, {found[gap]} faces, "
        line += f"{true_found[gap]} / {people} true faces found"
        if gap is not None:
            line += (
                f", {sum(matched[gap])} matched (box corners within {max((d for d, _ in box_diff[gap]), default=0):.2f} px, "
                f"IoU at least {min((iou for _, iou in box_diff[gap]), default=1):.3f}, median corner difference "
                f"{np.median([d for d, _ in box_diff[gap]] or [0]):.2f} px), "
                f"{len(lost[gap])} lost, {len(new[gap])} new; time against no gap: {seconds[gap] / seconds[None]:.3f}"
            )
        print(line)
        rest = seconds[gap] - sum(stages[gap].values())
        print("    " + ", ".join(f"{stage} {1000 * t / n:.1f}" for stage, t in [*stages[gap].items(), ("the rest", rest)]) + " ms a photo")
        for label, faces_ in (("lost", lost.get(gap, [])), ("new", new.get(gap, []))):
            for rel, width, prob in faces_:
                print(f"    {label}: {rel}, {width:.0f} px wide, probability {prob:.3f}")


def _time_stages(detector) -> dict[str, float]:
    """Seconds ``detector`` spends in each stage (added up as it runs): making the pyramid's
    levels, PNet, cutting out RNet's and ONet's crops, RNet, ONet."""
    import faceexplore.faces.mtcnn as mtcnn

    spent = dict.fromkeys(["pyramid", "PNet", "crops", "RNet", "ONet"], 0.0)

    def timed(function, stage):
        def run(*args):
            start = time.perf_counter()
            out = function(*args)
            spent[stage] += time.perf_counter() - start
            return out

        return run

    detector.pnet, detector.rnet, detector.onet = (
        timed(net, stage) for net, stage in zip((detector.pnet, detector.rnet, detector.onet), ("PNet", "RNet", "ONet"))
    )
    pyramid, crops = detector._pyramid, mtcnn._crops

    def timed_pyramid(image):
        levels = pyramid(image)
        while True:
            start = time.perf_counter()
            level = next(levels, None)
            spent["pyramid"] += time.perf_counter() - start
            if level is None:
                return
            yield level

    def timed_crops(image, boxes, side):  # RNet's and ONet's crops are cut by the module's function
        start = time.perf_counter()
        out = crops(image, boxes, side)
        spent["crops"] += time.perf_counter() - start
        return out

    detector._pyramid = timed_pyramid
    detector._refine = _with_crops(detector._refine, mtcnn, timed_crops)
    detector._output = _with_crops(detector._output, mtcnn, timed_crops)
    return spent


def _with_crops(stage, module, crops):
    """``stage`` run with ``module._crops`` replaced by ``crops`` (each detector times its own)."""

    def run(*args):
        original, module._crops = module._crops, crops
        try:
            return stage(*args)
        finally:
            module._crops = original

    return run


def _match(reference, boxes, threshold=0.5):
    """Pairs (i, j) of boxes that overlap with IoU over ``threshold``, best first, each box once."""
    pairs, used = [], set()
    scores = sorted(((_iou(a, b), i, j) for i, a in enumerate(reference) for j, b in enumerate(boxes)), reverse=True)
    for score, i, j in scores:
        if score > threshold and i not in {p[0] for p in pairs} and j not in used:
            pairs.append((i, j))
            used.add(j)
    return pairs


def _iou(a, b):
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def _describe(box, prob):
    return float(box[2] - box[0]), float(prob)


def _load():
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


if __name__ == "__main__":
    main()
