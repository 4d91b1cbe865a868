"""Photo in, faces with embeddings out: decoding, detection and embedding in one place, used by
the indexer's workers and by search for the visitor's sample photos.

The pipeline is handed its models (one class per model: ``FaceDetector``, the embedders in
``embedders/``); ``FacePipeline.from_settings`` is the factory that builds them from settings.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from dataclasses import dataclass

import numpy as np

from faceexplore.settings import Settings

from .detection import DetectedFace, FaceDetector
from .embedders import create_embedder
from .embedders.base import FaceEmbedder, normalise
from .images import load_photo, reduced_side


@dataclass
class AnalysedPhoto:
    width: int
    height: int
    faces: list[DetectedFace]
    embeddings: np.ndarray  # (len(faces), dim), L2-normalised


class FacePipeline:
    """``detector``: anything with ``detect(pixels, scale) -> list[DetectedFace]`` (a
    ``FaceDetector``). ``embedder``: a ``FaceEmbedder``. ``detect_size``: the longest side, in
    pixels, of the photo the detector sees."""

    def __init__(self, detector: FaceDetector, embedder: FaceEmbedder, detect_size: int = Settings.model_fields["detect_size"].default):
        self.detector, self.embedder, self.detect_size = detector, embedder, detect_size

    @classmethod
    def from_settings(cls, settings: Settings) -> FacePipeline:
        """The detector and the embedder ``settings`` name, loaded (seconds: weights are read)."""
        detector = FaceDetector(device=settings.device, min_face_size=settings.min_face_size, runtime=settings.detector_runtime)
        embedder = create_embedder(settings.model, **settings.embedder_options())
        return cls(detector, embedder, detect_size=settings.detect_size)

    @property
    def model_name(self) -> str:
        return self.embedder.name

    def analyse(
        self, source, timings: StageTimes | None = None, mirror_average: bool = False, max_decode_pixels: int | None = None
    ) -> AnalysedPhoto:
        """``source`` is a path or the bytes of an image. Raises ``ImageError`` for a bad file.
        ``timings``, when given, adds up the time of each stage (benchmarks' profiles).
        ``mirror_average``: each face's embedding is the mean of the face's and its mirror
        image's (twice the embedding time). Used for search samples: it raises one-sample F1
        on an event gallery (benchmarks/search_diagnostics.py measures it; docs/quality.md).
        ``max_decode_pixels``: the most pixels the second decode for small faces may make (a search
        bounds what one visitor's samples cost); the first decode is the caller's to check
        (images.decoded_pixels)."""
        clock = _StageClock(timings)
        # One decode serves both stages: a JPEG comes from the decoder already reduced (between
        # detect_size and twice it); the detector sees it downscaled to detect_size, and the
        # embedder crops faces from it at that higher resolution.
        photo = load_photo(source, max_side=self.detect_size, decoder_reduction_only=True)
        clock("decode")
        detection = photo.downscaled(self.detect_size)
        faces = self.detector.detect(detection.pixels, detection.scale)
        clock("detect (MTCNN)")
        pixels, scale = photo.pixels, photo.scale
        smallest = min((min(f.width, f.height) for f in faces), default=0)
        if faces and scale < 1 and smallest * scale < self.embedder.source_face_pixels:
            # A face too small even there: decode again at the resolution that gives it the
            # pixels the embedder needs (never more than the original).
            needed = min(1.0, self.embedder.face_pixels / max(smallest, 1.0))
            side = math.ceil(max(photo.width, photo.height) * needed)
            if max_decode_pixels is not None:
                side = reduced_side(photo.format, photo.width, photo.height, side, max_decode_pixels) or 0
                needed = side / max(photo.width, photo.height)
            if needed > scale * 1.1:
                full = load_photo(source, max_side=side)
                pixels, scale = full.pixels, full.scale
                clock("decode again for small faces")
        embeddings = self.embedder.embed(pixels, faces, scale)
        if mirror_average and faces:
            width = pixels.shape[1] / scale
            mirrored = self.embedder.embed(np.ascontiguousarray(pixels[:, ::-1]), [f.mirrored(width) for f in faces], scale)
            embeddings = normalise(embeddings + mirrored)
        clock("embed")
        return AnalysedPhoto(photo.width, photo.height, faces, embeddings)


class StageTimes:
    """Seconds spent in each stage of ``FacePipeline.analyse`` and how many photos went through it."""

    def __init__(self):
        self.seconds, self.calls = Counter(), Counter()


class _StageClock:
    """Charges the time since its last call to a stage; does nothing without ``StageTimes``."""

    def __init__(self, timings: StageTimes | None):
        self.timings, self.last = timings, time.perf_counter()

    def __call__(self, stage: str):
        if self.timings is not None:
            now = time.perf_counter()
            self.timings.seconds[stage] += now - self.last
            self.timings.calls[stage] += 1
            self.last = now
