"""The code that analyses photos in the indexer's workers, for both engines (engines/local.py's
processes and engines/ray.py's actors) and for the live watcher: one FacePipeline per worker,
one photo in, (PhotoRecord, [FaceRecord]) out."""

from __future__ import annotations

import os
import traceback

from ..faces.images import ImageError
from ..settings import Settings
from .gallery import GalleryFile, filesystem_path
from .store import FaceRecord, PhotoRecord

# The networks run on the GPU, but decoding, alignment and MTCNN's per-candidate work stay on the
# CPU, so one worker cannot keep the GPU busy; several share it (measured on an H100 with
# `index --device cuda --workers N`: docs/speed.md, "GPU"). Each holds a CUDA context of its own.
CUDA_WORKERS = 8

pipeline = None  # one per worker process (or Ray actor), set by init_worker


def init_worker(settings: Settings, threads: int):
    """A worker's start: ``threads`` torch threads and its own detector and embedder."""
    import torch

    global pipeline
    torch.set_num_threads(threads)
    from ..faces.pipeline import FacePipeline

    pipeline = FacePipeline.from_settings(settings)


def analyse_job(job: tuple[str, GalleryFile]):
    """Runs in a worker (either engine): one photo to (PhotoRecord, [FaceRecord]). Never raises."""
    gallery, item = job
    return analyse_file(pipeline, gallery, item)


def analyse_file(face_pipeline, gallery: str, item: GalleryFile):
    """One photo of the gallery to (PhotoRecord, [FaceRecord]) with ``face_pipeline`` (the workers'
    and the live watcher's). Never raises: a photo that cannot be read is an error record."""
    record = PhotoRecord(item.path, item.size, item.mtime_ns)
    try:
        result = face_pipeline.analyse(os.path.join(gallery, filesystem_path(item.path)))
    except ImageError as exc:
        record.status, record.error = "error", str(exc)
        return record, []
    except Exception as exc:  # one photo must never end the run
        record.status, record.error = "error", f"internal error: {exc!r}"
        traceback.print_exc()
        return record, []
    record.width, record.height = result.width, result.height
    faces = [FaceRecord(f.box, f.landmarks, f.probability, f.flags, e) for f, e in zip(result.faces, result.embeddings)]
    return record, faces
