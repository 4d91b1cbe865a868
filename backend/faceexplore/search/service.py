"""Search from sample photos, shared by the CLI and the web API: decode and check the samples,
pick the face in each, search the gallery, and describe the answer as typed data (the web API
serialises it; ``SearchOutcome.to_dict`` gives the CLI's JSON)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from faceexplore.faces.images import REDUCED_DECODE_FORMATS, ImageError, decoded_pixels, image_header
from faceexplore.faces.pipeline import FacePipeline
from faceexplore.index.store import FaceIndex, ModelMismatch
from faceexplore.settings import Settings

from .searcher import Candidate, GallerySearcher, Match

# What one search may cost a worker, in pixels decoded (the memory and most of the CPU time of
# analysing its samples; images.decoded_pixels). Each sample: max_sample_megapixels; all of one
# search's samples, second decodes for small faces included: this many times that. A JPEG is
# decoded already reduced (a 48-megapixel phone photo costs about 3 at detect_size 1600), so its
# header may claim up to JPEG_CLAIMED_FACTOR times the limit; other formats are decoded whole.
SAMPLE_MEGAPIXELS_PER_SEARCH = 4  # 64 at the default: five 12-megapixel HEICs, ten phone JPEGs
JPEG_CLAIMED_FACTOR = 4


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
class CandidatePerson:
    """A person offered to the visitor to recognise ("is one of these you?"): ``face_id`` is their
    clearest face (highest detection probability × size), ``photo_ids`` what confirming returns."""

    person_id: int
    confidence: float
    score: float
    face_id: int
    photo_ids: list[int]


@dataclass(frozen=True)
class SearchOutcome:
    found: bool
    confidence: float
    message: str
    person_id: int | None  # the person (cluster) found, in the clustering the search used
    rule: SearchRule
    samples: list[SampleReport]
    photos: list[PhotoMatch]
    candidates: list[CandidatePerson] = dataclasses.field(default_factory=list)  # when not found, best first
    also_you: list[CandidatePerson] = dataclasses.field(default_factory=list)  # when found

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
        self.searcher = GallerySearcher(self.index, settings.false_alarm_rate, settings.candidates, settings.candidate_rate)

    def analyse_samples(self, samples) -> tuple[list[SampleReport], list[np.ndarray]]:
        """``samples``: (filename, bytes, face choice or None). Returns the per-sample reports
        and the chosen embeddings."""
        spare = self.check_sample_sizes(samples)
        # what is left of the search's budget after the first decodes, shared by the samples
        # for second decodes (small faces); never more than one sample's limit each
        redecode = int(min(self.settings.max_sample_megapixels * 1e6, spare / len(samples))) if samples else 0
        reports, chosen = [], []
        for i, (filename, data, choice) in enumerate(samples):
            try:
                result = self.pipeline.analyse(data, mirror_average=True, max_decode_pixels=redecode)
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

    def check_sample_sizes(self, samples) -> float:
        """Refuse, before decoding any, a sample whose decode would make over
        ``max_sample_megapixels`` (a small file can claim a huge picture: decoding it would take a
        worker's memory and seconds of CPU; a JPEG is decoded reduced, any other format whole),
        a JPEG claiming over JPEG_CLAIMED_FACTOR times that, or samples over
        SAMPLE_MEGAPIXELS_PER_SEARCH times that together. Returns the pixels left of the search's
        budget."""
        limit = self.settings.max_sample_megapixels
        detect_size = getattr(self.pipeline, "detect_size", None)
        total = 0
        for filename, data, _ in samples:
            try:
                image_format, width, height = image_header(data)
            except ImageError as exc:
                raise SearchInputError("not_an_image", f"{filename} cannot be used: {exc}.") from None
            pixels = decoded_pixels(image_format, width, height, detect_size)
            reduced = pixels < width * height
            if pixels > limit * 1e6 or (reduced and width * height > JPEG_CLAIMED_FACTOR * limit * 1e6):
                most = JPEG_CLAIMED_FACTOR * limit if image_format in REDUCED_DECODE_FORMATS else limit
                raise SearchInputError(
                    "too_large_image",
                    f"{filename} is {width}×{height} pixels ({width * height / 1e6:.0f} megapixels); a {image_format} sample may have "
                    f"at most {most:g} megapixels. Use a smaller copy of the photo.",
                )
            total += pixels
        budget = SAMPLE_MEGAPIXELS_PER_SEARCH * limit * 1e6
        if total > budget:
            raise SearchInputError(
                "too_large_image",
                f"The samples are too large to analyse together ({total / 1e6:.0f} megapixels to decode; at most "
                f"{budget / 1e6:g} in one search). Use fewer photos or smaller copies of them (JPEGs cost the least).",
            )
        return budget - total

    def search(self, samples, false_alarm_rate: float | None = None) -> SearchOutcome:
        if not samples:
            raise SearchInputError("no_file", "Add at least one photo of the person.", 400)
        reports, chosen = self.analyse_samples(samples)
        return self.search_analysed(reports, chosen, false_alarm_rate)

    def search_analysed(
        self, reports: list[SampleReport], chosen, false_alarm_rate: float | None = None, candidate_rate: float | None = None
    ) -> SearchOutcome:
        if not chosen:
            names = ", ".join(r.filename for r in reports)
            raise SearchInputError("no_face", f"No face was found in {names}. Try a photo where the face is clearly visible.")
        result = self.searcher.search(np.stack(chosen), false_alarm_rate, candidate_rate=candidate_rate)
        with self.index.snapshot():
            photos = self._photos(result.matches)
            offered = [self._candidate_person(c) for c in result.candidates]
            also = [self._candidate_person(c) for c in result.also_you]
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
            candidates=[c for c in offered if c is not None],
            also_you=[c for c in also if c is not None],
        )

    def _candidate_person(self, candidate: Candidate) -> CandidatePerson | None:
        faces = self.index.face_infos(candidate.face_ids)
        if not faces:  # removed by a concurrent index run
            return None
        clearest = max(faces, key=lambda f: (f.probability * (f.box[2] - f.box[0]) * (f.box[3] - f.box[1]), -f.id))
        return CandidatePerson(
            candidate.cluster_id, round(candidate.confidence, 4), round(candidate.score, 4), clearest.id, sorted(set(candidate.photo_ids))
        )

    def confirmed(self, person_id: int, photo_ids, confidence: float, near: list[int]) -> SearchOutcome:
        """What a found search answers for ``person_id``, a candidate the visitor recognised: that
        person's photos among ``photo_ids`` (those the search offered), and which of ``near`` (the
        search's other people in the band) are likely the same person. Not found when the person
        has been hidden or re-clustered away since; photos withheld since (withheld.py) are left out."""
        wanted = {int(p) for p in photo_ids}
        person = self.searcher.person_candidate(person_id, confidence)
        matches = []
        if person is not None:
            best: dict[int, int] = {}
            for face_id, photo_id in zip(person.face_ids, person.photo_ids):
                if photo_id in wanted and photo_id not in best:
                    best[photo_id] = face_id
            matches = [Match(face_id, photo_id, person_id, 0.0, confidence) for photo_id, face_id in sorted(best.items())]
        # offered anew: none with a withheld photo (withheld.py), as for a search's candidates
        others = [self.searcher.person_candidate(other, confidence, whole=True) for other in self.searcher.near_people(person_id, near)]
        also = []
        with self.index.snapshot():
            photos = self._photos(matches)
            if photos:
                also = [self._candidate_person(c) for c in others if c is not None]
        found = bool(photos)
        rate = self.searcher.false_alarm_rate
        return SearchOutcome(
            found=found,
            confidence=round(confidence if found else 1.0 - confidence, 4),
            message=f"Found {len(photos)} photo{'s' if len(photos) != 1 else ''} of this person."
            if found
            else "This person is not in the gallery.",
            person_id=person_id if found else None,
            rule=SearchRule("confirmed", None, rate, None, "the visitor recognised this person among the search's candidates"),
            samples=[],
            photos=photos,
            also_you=[c for c in also if c is not None],
        )

    def _photos(self, matches) -> list[PhotoMatch]:
        photos = []
        infos = self.index.photo_infos(m.photo_id for m in matches)
        for m in matches:
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
        return photos
