"""What every face embedder shares: the interface and the face-region crop."""

from __future__ import annotations

import numpy as np
from PIL import Image


class ModelWeightsMissing(RuntimeError):
    """A model's weights are not on this machine; the message says which file and where it goes."""


class FaceEmbedder:
    """Turns detected faces into L2-normalised float32 vectors.

    ``name`` is recorded in the index: embeddings of different models never mix.
    ``face_pixels`` is the face width the crop handed to the model is scaled to.
    ``source_face_pixels`` is the smallest face width, in the decoded photo, that crop may be
    made from without losing detail; a photo whose faces are smaller is decoded again at a
    higher resolution.
    """

    name: str = ""
    dim: int = 0
    face_pixels: int = 112

    @property
    def source_face_pixels(self) -> int:
        return self.face_pixels

    def embed(self, pixels: np.ndarray, faces, scale: float = 1.0) -> np.ndarray:
        """Embeddings (n, dim) for ``faces`` (original-photo coordinates) found in ``pixels``,
        an RGB array at ``scale`` times the original size."""
        vectors = [self.embed_region(*face_region(pixels, face, scale, self.face_pixels)) for face in faces]
        if not vectors:
            return np.zeros((0, self.dim), np.float32)
        return normalise(np.stack(vectors))

    def embed_region(self, region: np.ndarray, box, landmarks) -> np.ndarray:
        raise NotImplementedError


def normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def face_region(pixels: np.ndarray, face, scale: float, face_pixels: int, margin: float = 0.6):
    """A crop around ``face`` resized so the face is about ``face_pixels`` wide.

    Returns the crop and the face's box and landmarks in the crop's coordinates. Working on a
    bounded crop keeps embedding cost the same whatever the photo's resolution.
    """
    h, w = pixels.shape[:2]
    x1, y1, x2, y2 = (v * scale for v in face.box)
    side = max(x2 - x1, y2 - y1)
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    half = side * (0.5 + margin)
    left, top = int(max(0, cx - half)), int(max(0, cy - half))
    right, bottom = int(min(w, cx + half)), int(min(h, cy + half))
    crop = pixels[top:bottom, left:right]
    zoom = face_pixels / max(side, 1.0)
    if abs(zoom - 1.0) > 0.05:
        size = (max(1, round(crop.shape[1] * zoom)), max(1, round(crop.shape[0] * zoom)))
        crop = np.asarray(Image.fromarray(crop).resize(size, Image.BICUBIC if zoom > 1 else Image.BILINEAR, reducing_gap=2.0))
    else:
        zoom = 1.0
    box = ((x1 - left) * zoom, (y1 - top) * zoom, (x2 - left) * zoom, (y2 - top) * zoom)
    landmarks = [((x * scale - left) * zoom, (y * scale - top) * zoom) for x, y in face.landmarks]
    return np.ascontiguousarray(crop), box, landmarks
