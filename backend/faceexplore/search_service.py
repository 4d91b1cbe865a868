"""Search from sample photos, shared by the CLI and the web API: decode and check the samples,
pick the face in each, search the gallery, and describe the answer as typed data (the web API
serialises it; ``SearchOutcome.to_dict`` gives the CLI's JSON)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from .images import ImageError, image_pixels
from .pipeline import FacePipeline
from .search import GallerySearcher
from .settings import Settings
from .store import FaceIndex, ModelMismatch

# The samples of one search together: this many times max_sample_megapixels (so at most a few
# full-size samples; a phone photo is far under the per-sample limit).
SAMPLE_MEGAPIXELS_PER_SEARCH = 4


class SearchInputError(ValueError):
    """Bad input from the visitor; ``code`` is machine-readable, the message is for a person,
    ``status`` the HTTP status the web API answers with. (A ValueError: the CLI reports those as
    a message, not a traceback.)"""

    def __init__(self, code: str, message: str, status: int = 422):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


@dataclass(frozen=True)
class SampleError:
    code: str
    message: str


@dataclass(frozen=True)
class SampleFace:
    index: int
    box: list[float]  # x1, y1, x2, y2 in the sample's pixels
    probability: float


@dataclass(frozen=True)
class SampleReport:
    """What was found in one sample photo, and which face of it the search used."""

    index: int
    filename: str
    width: int
    height: int
    faces: list[SampleFace]
    used_face: int | None
    error: SampleError | None


@dataclass(frozen=True)
class SearchRule:
    """The decision rule and the numbers behind the verdict."""

    name: str
    threshold: float | None
    false_alarm_rate: float
    best_score: float | None
    text: str


@dataclass(frozen=True)
class PhotoMatch:
    """A gallery photo of the person: ``box`` is the matching face, ``confidence`` in [0, 1]."""

    id: int
    path: str
    width: int | None
    height: int | None
    confidence: float
    distance: float
    face_id: int
    box: list[float]


@dataclass(frozen=True)
class SearchOutcome:
    found: bool
    confidence: float
    message: str
    person_id: int | None  # the person (cluster) found, in the clustering the search used
    rule: SearchRule
    samples: list[SampleReport]
    photos: list[PhotoMatch]

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


class SearchService:
    def __init__(self, settings: Settings, pipeline: FacePipeline | None = None, index: FaceIndex | None = None):
        self.settings = settings
        self.index = index or FaceIndex(settings.index_path, readonly=True)
        self.pipeline = pipeline or FacePipeline.from_settings(settings)
        model = self.index.meta("model")
        if model and model != self.pipeline.model_name:
            raise ModelMismatch(f"the index was built with {model!r} but the search model is {self.pipeline.model_name!r}")
        self.searcher = GallerySearcher(self.index, settings.false_alarm_rate)

    def analyse_samples(self, samples) -> tuple[list[SampleReport], list[np.ndarray]]:
        """``samples``: (filename, bytes, face choice or None). Returns the per-sample reports
        and the chosen embeddings."""
        self.check_sample_sizes(samples)
        reports, chosen = [], []
        for i, (filename, data, choice) in enumerate(samples):
            try:
                result = self.pipeline.analyse(data, mirror_average=True)
            except ImageError as exc:
                raise SearchInputError("not_an_image", f"{filename} cannot be used: {exc}.") from None
            faces = [SampleFace(k, [round(float(v), 1) for v in f.box], round(float(f.probability), 4)) for k, f in enumerate(result.faces)]
            used, error = None, None
            if not result.faces:
                error = SampleError("no_face", f"No face was found in {filename}.")
            else:
                if choice is None:
                    used = int(np.argmax([f.area for f in result.faces]))
                elif 0 <= choice < len(result.faces):
                    used = int(choice)
                else:
                    raise SearchInputError(
                        "bad_face_choice", f"{filename} has {len(result.faces)} face(s); face {choice} does not exist.", 400
                    )
                chosen.append(result.embeddings[used])
            reports.append(SampleReport(i, filename, int(result.width), int(result.height), faces, used, error))
        return reports, chosen

    def check_sample_sizes(self, samples) -> None:
        """Refuse, before decoding any, a sample over ``max_sample_megapixels`` (a small file can
        claim a huge picture: decoding it would take a worker's memory and seconds of CPU) or
        samples over ``SAMPLE_MEGAPIXELS_PER_SEARCH`` times that together."""
        limit = self.settings.max_sample_megapixels
        total = 0
        for filename, data, _ in samples:
            try:
                pixels = image_pixels(data)
            except ImageError as exc:
                raise SearchInputError("not_an_image", f"{filename} cannot be used: {exc}.") from None
            if pixels > limit * 1e6:
                raise SearchInputError(
                    "too_large_image",
                    f"{filename} is {pixels / 1e6:.0f} megapixels; samples of at most {limit:g} megapixels are accepted. "
                    "Use a smaller copy of the photo.",
                )
            total += pixels
        if total > SAMPLE_MEGAPIXELS_PER_SEARCH * limit * 1e6:
            raise SearchInputError(
                "too_large_image",
                f"The samples are {total / 1e6:.0f} megapixels together; at most {SAMPLE_MEGAPIXELS_PER_SEARCH * limit:g} "
                "are accepted in one search. Use fewer or smaller photos.",
            )

    def search(self, samples, false_alarm_rate: float | None = None) -> SearchOutcome:
        if not samples:
            raise SearchInputError("no_file", "Add at least one photo of the person.", 400)
        reports, chosen = self.analyse_samples(samples)
        return self.search_analysed(reports, chosen, false_alarm_rate)

    def search_analysed(self, reports: list[SampleReport], chosen, false_alarm_rate: float | None = None) -> SearchOutcome:
        if not chosen:
            names = ", ".join(r.filename for r in reports)
            raise SearchInputError("no_face", f"No face was found in {names}. Try a photo where the face is clearly visible.")
        result = self.searcher.search(np.stack(chosen), false_alarm_rate)
        photos = []
        with self.index.snapshot():
            infos = self.index.photo_infos(m.photo_id for m in result.matches)
            for m in result.matches:
                photo, face = infos.get(m.photo_id), self.index.face_info(m.face_id)
                if photo is None or face is None:  # removed by a concurrent index run
                    continue
                photos.append(
                    PhotoMatch(
                        id=m.photo_id,
                        path=photo.path,
                        width=photo.width,
                        height=photo.height,
                        confidence=round(m.confidence, 4),
                        distance=round(m.distance, 4),
                        face_id=m.face_id,
                        box=[round(v, 1) for v in face.box],
                    )
                )
        message = (
            f"Found {len(photos)} photo{'s' if len(photos) != 1 else ''} of this person."
            if result.found
            else "This person is not in the gallery."
            if result.threshold is not None
            else result.rule  # the gallery cannot be searched yet: say why, not "not in the gallery"
        )
        return SearchOutcome(
            found=result.found,
            confidence=round(result.confidence, 4),
            message=message,
            person_id=result.person_id,
            rule=SearchRule("open-set", result.threshold, result.false_alarm_rate, result.best_score, result.rule),
            samples=reports,
            photos=photos,
        )
