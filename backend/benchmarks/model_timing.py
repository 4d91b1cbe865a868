#!/usr/bin/env python3
"""The two models, ours against the libraries', on one thread: the figures behind mtcnn.py and
embedders/dlib_resnet_torch.py (latest results in docs/speed.md).

  1. MTCNN on the first --photos photos under GALLERY (any layout), shrunk to 1600 px as indexing
     does: facenet-pytorch's MTCNN.detect, with the share of its time spent building the image
     pyramid (its ``imresample`` calls other than RNet's and ONet's 24 and 48 px crops),
     against faceexplore.faces.mtcnn.MTCNN with the share of its time in PNet, and the faces each
     finds.
  2. dlib's face network on the first --faces photos of PEOPLE (LFW layout, the face in the
     middle of a 250x250 photo): dlib's compute_face_descriptor on each aligned chip against the
     PyTorch network on the same chips, one at a time and in batches of 4, and the largest
     difference between their descriptors.

usage:
  python backend/benchmarks/model_timing.py /tmp/bench-index/gallery ../shared/datasets/lfw-dev
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("gallery", help="photos for the MTCNN timing (an event gallery)")
    ap.add_argument("people", help="people folder (LFW layout) for the dlib timing")
    ap.add_argument("--photos", type=int, default=20)
    ap.add_argument("--faces", type=int, default=60)
    args = ap.parse_args()
    torch.set_num_threads(1)
    mtcnn(sorted(p for p in Path(args.gallery).rglob("*") if p.suffix.lower() in {".jpg", ".jpeg", ".png"})[: args.photos])
    dlib_network(sorted(Path(args.people).glob("*/*.jpg"))[: args.faces])


def mtcnn(files):
    import facenet_pytorch.models.utils.detect_face as facenet_detect
    from facenet_pytorch import MTCNN as FacenetMTCNN

    from faceexplore.faces.images import load_photo
    from faceexplore.faces.mtcnn import MTCNN

    images = [load_photo(f, max_side=1600).pixels for f in files]
    pyramid = [0.0]
    resample = facenet_detect.imresample

    def timed(img, size):
        start = time.perf_counter()
        out = resample(img, size)
        if tuple(size) not in ((24, 24), (48, 48)):  # a pyramid level, not a candidate's crop
            pyramid[0] += time.perf_counter() - start
        return out

    facenet_detect.imresample = timed
    theirs, ours = FacenetMTCNN(keep_all=True, min_face_size=20), MTCNN(min_face_size=20)
    theirs.detect(images[0]), ours.detect(images[0])
    pyramid[0] = 0.0
    seconds_theirs, found_theirs = _time(lambda im: theirs.detect(im)[0], images)
    share = pyramid[0]
    facenet_detect.imresample = resample
    pnet, forward = [0.0], ours.pnet.forward

    def timed_pnet(x):
        start = time.perf_counter()
        out = forward(x)
        pnet[0] += time.perf_counter() - start
        return out

    ours.pnet.forward = timed_pnet
    seconds_ours, found_ours = _time(lambda im: ours.detect(im)[0], images)
    n = len(images)
    print(f"MTCNN, {n} photos of {images[0].shape[1]}x{images[0].shape[0]}, one thread:")
    print(
        f"  facenet-pytorch MTCNN.detect  {seconds_theirs / n * 1000:6.1f} ms a photo "
        f"({share / n * 1000:.1f} ms building the pyramid), {found_theirs} faces"
    )
    print(
        f"  faceexplore.faces.mtcnn.MTCNN       {seconds_ours / n * 1000:6.1f} ms a photo "
        f"({pnet[0] / n * 1000:.1f} ms in PNet, the first stage), {found_ours} faces"
    )


def _time(detect, images):
    start, found = time.perf_counter(), 0
    for image in images:
        boxes = detect(image)
        found += 0 if boxes is None else len(boxes)
    return time.perf_counter() - start, found


def dlib_network(files):
    import dlib
    import face_recognition_models as models

    from faceexplore.faces.embedders.dlib_resnet_torch import load_dlib_resnet

    predictor = dlib.shape_predictor(models.pose_predictor_five_point_model_location())
    dlib_net = dlib.face_recognition_model_v1(models.face_recognition_model_location())
    torch_net = load_dlib_resnet(models.face_recognition_model_location())
    chips = []
    for f in files:
        image = dlib.load_rgb_image(str(f))
        shape = predictor(image, dlib.rectangle(75, 75, 175, 175))
        chips.append(dlib.get_face_chip(image, shape, 150, 0.25))
    dlib_net.compute_face_descriptor(chips[0])
    start = time.perf_counter()
    expected = np.array([dlib_net.compute_face_descriptor(c) for c in chips])
    seconds_dlib = time.perf_counter() - start
    batch = torch.from_numpy(np.stack(chips)).permute(0, 3, 1, 2).float()
    with torch.inference_mode():
        torch_net(batch[:4])
        timings = {}
        for size in (1, 4):
            start = time.perf_counter()
            got = np.concatenate([torch_net(batch[i : i + size]).numpy() for i in range(0, len(batch), size)])
            timings[size] = time.perf_counter() - start
    n = len(chips)
    print(f"dlib's face network, {n} LFW faces, one thread:")
    print(f"  dlib compute_face_descriptor  {seconds_dlib / n * 1000:6.1f} ms a face")
    print(f"  PyTorch, one at a time         {timings[1] / n * 1000:6.1f} ms a face")
    print(f"  PyTorch, batches of 4          {timings[4] / n * 1000:6.1f} ms a face")
    print(f"  largest difference between their descriptors: {np.abs(got - expected).max():.1e}")


if __name__ == "__main__":
    main()
