"""Face detection with MTCNN (facenet-pytorch's networks, see ``mtcnn.py``): every face, its
probability and 5 landmarks."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# Quality flags. They never drop a face; they tell clustering, search and the report which
# faces to trust less.
TINY_FACE_PIXELS = 40  # shorter side of the box in the original photo
DOUBTFUL_PROBABILITY = 0.95


@dataclass
class DetectedFace:
    box: tuple[float, float, float, float]  # x1, y1, x2, y2 in the original photo's pixels
    probability: float
    landmarks: list[tuple[float, float]]  # eyes, nose, mouth corners (original pixels)
    flags: list[str] = field(default_factory=list)

    @property
    def width(self) -> float:
        return self.box[2] - self.box[0]

    @property
    def height(self) -> float:
        return self.box[3] - self.box[1]

    @property
    def area(self) -> float:
        return max(0.0, self.width) * max(0.0, self.height)

    def mirrored(self, photo_width: float) -> DetectedFace:
        """This face in the photo flipped left to right: the eyes and the mouth corners swap."""
        x1, y1, x2, y2 = self.box
        points = [(photo_width - x, y) for x, y in self.landmarks]
        if len(points) == 5:
            points = [points[1], points[0], points[2], points[4], points[3]]
        return DetectedFace((photo_width - x2, y1, photo_width - x1, y2), self.probability, points, list(self.flags))


class FaceDetector:
    """Wraps MTCNN; returns faces in original-photo coordinates. ``runtime``: what runs MTCNN's
    networks on the CPU (``mtcnn.RUNTIMES``); on a GPU they run in PyTorch."""

    def __init__(self, device: str = "cpu", min_face_size: int = 20, runtime: str = "torch"):
        import torch

        from .mtcnn import MTCNN

        if device.startswith("cuda") and not torch.cuda.is_available():
            raise RuntimeError("--device cuda was asked for, but PyTorch sees no CUDA GPU here")
        self.device = device
        self.mtcnn = MTCNN(min_face_size=min_face_size, device=device, runtime=runtime if device == "cpu" else "torch")

    def detect(self, pixels: np.ndarray, scale: float = 1.0) -> list[DetectedFace]:
        """Faces in an RGB array that is ``scale`` times the original photo's size."""
        boxes, probs, points = self.mtcnn.detect(pixels)
        if boxes is None:
            # MTCNN's first stage misses faces that fill the frame (tight portrait crops, the
            # usual sample photo): look again with a grey border around the picture.
            pad = max(8, int(0.15 * max(pixels.shape[:2])))
            padded = np.pad(pixels, ((pad, pad), (pad, pad), (0, 0)), constant_values=128)
            boxes, probs, points = self.mtcnn.detect(padded)
            if boxes is None:
                return []
            boxes, points = boxes - pad, points - pad
        h, w = pixels.shape[:2]
        faces = []
        for box, prob, pts in zip(boxes, probs, points):
            x1, y1, x2, y2 = (float(v) for v in box)
            # MTCNN boxes may run past the border; keep them inside the photo.
            x1, y1, x2, y2 = max(0.0, x1), max(0.0, y1), min(float(w), x2), min(float(h), y2)
            if x2 - x1 < 2 or y2 - y1 < 2:
                continue
            face = DetectedFace(
                box=(x1 / scale, y1 / scale, x2 / scale, y2 / scale),
                probability=float(prob),
                landmarks=[(float(x) / scale, float(y) / scale) for x, y in pts],
            )
            if min(face.width, face.height) < TINY_FACE_PIXELS:
                face.flags.append("tiny")
            if face.probability < DOUBTFUL_PROBABILITY:
                face.flags.append("doubtful")
            faces.append(face)
        return _drop_duplicates(faces)


def _drop_duplicates(faces: list[DetectedFace]) -> list[DetectedFace]:
    """MTCNN's non-maximum suppression (IoU 0.7) can leave one face detected twice with shifted
    boxes. Two real faces never cover most of each other, so when a box lies mostly (over half
    of its area) inside a more probable one, it is the same face and is dropped."""
    kept: list[DetectedFace] = []
    for face in sorted(faces, key=lambda f: -f.probability):
        if all(_overlap_of_smaller(face.box, k.box) <= 0.5 for k in kept):
            kept.append(face)
    return sorted(kept, key=lambda f: f.box[0])


def _overlap_of_smaller(a, b) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return w * h / smaller if smaller > 0 else 0.0
