"""Photo in, faces with embeddings out: decoding, detection and embedding in one place, used by
the indexer's workers and by search for the visitor's sample photos."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .detection import DetectedFace, FaceDetector
from .embedders import create_embedder
from .images import load_photo
from .settings import Settings


@dataclass
class AnalysedPhoto:
    width: int
    height: int
    faces: list[DetectedFace]
    embeddings: np.ndarray  # (len(faces), dim), L2-normalised


class FacePipeline:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.detector = FaceDetector(device=settings.device, min_face_size=settings.min_face_size)
        self.embedder = create_embedder(settings.model, **settings.embedder_options())

    @property
    def model_name(self) -> str:
        return self.embedder.name

    def analyse(self, source) -> AnalysedPhoto:
        """``source`` is a path or the bytes of an image. Raises ``ImageError`` for a bad file."""
        photo = load_photo(source, max_side=self.settings.detect_size)
        faces = self.detector.detect(photo.pixels, photo.scale)
        pixels, scale = photo.pixels, photo.scale
        smallest = min((min(f.width, f.height) for f in faces), default=0)
        if faces and scale < 1 and smallest * scale < self.embedder.face_pixels:
            # A face too small in the detection image: decode again at the resolution that
            # gives it the pixels the embedder needs (never more than the original).
            needed = min(1.0, self.embedder.face_pixels / max(smallest, 1.0))
            side = math.ceil(max(photo.width, photo.height) * needed)
            if needed > scale * 1.1:
                full = load_photo(source, max_side=side)
                pixels, scale = full.pixels, full.scale
        embeddings = self.embedder.embed(pixels, faces, scale)
        return AnalysedPhoto(photo.width, photo.height, faces, embeddings)
