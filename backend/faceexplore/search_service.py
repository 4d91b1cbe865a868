"""Search from sample photos, shared by the CLI and the web API: decode and check the samples,
pick the face in each, search the gallery, and describe the answer as plain data."""

from __future__ import annotations

import numpy as np

from .images import ImageError
from .pipeline import FacePipeline
from .search import GallerySearcher
from .settings import Settings
from .store import FaceIndex


class SearchInputError(ValueError):
    """Bad input from the visitor; ``code`` is machine-readable, the message is for a person."""

    def __init__(self, code: str, message: str, status: int = 422):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


class SearchService:
    def __init__(self, settings: Settings, pipeline: FacePipeline | None = None, index: FaceIndex | None = None):
        self.settings = settings
        self.index = index or FaceIndex(settings.index_path, readonly=True)
        self.pipeline = pipeline or FacePipeline.from_settings(settings)
        model = self.index.meta("model")
        if model and model != self.pipeline.model_name:
            raise ValueError(f"the index was built with {model!r} but the search model is {self.pipeline.model_name!r}")
        self.searcher = GallerySearcher(self.index, settings.false_alarm_rate)

    def analyse_samples(self, samples):
        """``samples``: (filename, bytes, face choice or None). Returns the per-sample report
        and the chosen embeddings."""
        reports, chosen = [], []
        for i, (filename, data, choice) in enumerate(samples):
            try:
                result = self.pipeline.analyse(data, mirror_average=True)
            except ImageError as exc:
                raise SearchInputError("not_an_image", f"{filename} cannot be used: {exc}.") from None
            faces = [
                {"index": k, "box": [round(v, 1) for v in f.box], "probability": round(f.probability, 4)}
                for k, f in enumerate(result.faces)
            ]
            report = {
                "index": i,
                "filename": filename,
                "width": result.width,
                "height": result.height,
                "faces": faces,
                "used_face": None,
                "error": None,
            }
            if not result.faces:
                report["error"] = {"code": "no_face", "message": f"No face was found in {filename}."}
            else:
                if choice is None:
                    used = int(np.argmax([f.area for f in result.faces]))
                elif 0 <= choice < len(result.faces):
                    used = int(choice)
                else:
                    raise SearchInputError(
                        "bad_face_choice", f"{filename} has {len(result.faces)} face(s); face {choice} does not exist.", 400
                    )
                report["used_face"] = used
                chosen.append(result.embeddings[used])
            reports.append(report)
        return reports, chosen

    def search(self, samples, false_alarm_rate: float | None = None) -> dict:
        if not samples:
            raise SearchInputError("no_file", "Add at least one photo of the person.", 400)
        reports, chosen = self.analyse_samples(samples)
        return self.search_analysed(reports, chosen, false_alarm_rate)

    def search_analysed(self, reports, chosen, false_alarm_rate: float | None = None) -> dict:
        if not chosen:
            names = ", ".join(r["filename"] for r in reports)
            raise SearchInputError("no_face", f"No face was found in {names}. Try a photo where the face is clearly visible.")
        result = self.searcher.search(np.stack(chosen), false_alarm_rate)
        photos = []
        rows = {r["id"]: r for r in self.index.photos(m.photo_id for m in result.matches)}
        for m in result.matches:
            photo, face = rows.get(m.photo_id), self.index.face(m.face_id)
            if photo is None or face is None:  # removed by a concurrent index run
                continue
            photos.append(
                {
                    "id": m.photo_id,
                    "path": photo["path"],
                    "width": photo["width"],
                    "height": photo["height"],
                    "confidence": round(m.confidence, 4),
                    "distance": round(m.distance, 4),
                    "face_id": m.face_id,
                    "box": [round(face[k], 1) for k in ("x1", "y1", "x2", "y2")],
                }
            )
        message = (
            f"Found {len(photos)} photo{'s' if len(photos) != 1 else ''} of this person."
            if result.found
            else "This person is not in the gallery."
        )
        return {
            "found": result.found,
            "confidence": round(result.confidence, 4),
            "message": message,
            "person_id": result.person_id,
            "rule": {
                "name": "open-set",
                "threshold": result.threshold,
                "false_alarm_rate": result.false_alarm_rate,
                "best_score": result.best_score,
                "text": result.rule,
            },
            "samples": reports,
            "photos": photos,
        }
