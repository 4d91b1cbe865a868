"""The Ray engine: the photos are analysed by a pool of actors on a Ray cluster, fed by Ray Data.

Each actor loads the detector and the embedder once (``indexer._init_worker``, one torch thread,
as a local worker does) and analyses a few photos per call with ``indexer._analyse_file``, so a
photo gives the same record and faces on either engine. Only the analysis is distributed: the
results stream back to this process, where the indexer's one SQLite writer commits them.

The gallery must be readable at the same path on every node (a shared mount: docs/scaling.md).
This package's own code travels with the job (Ray's ``py_modules``), so the nodes need only the
same Python dependencies, not a copy of FaceExplore.
"""

from __future__ import annotations

import logging
import math
import pickle
from pathlib import Path

from .. import indexer
from ..gallery import GalleryFile
from . import EngineUnavailable

INSTALL_HINT = "pip install -r requirements-ray.txt"
# Photos per actor call: a call costs Ray a few milliseconds, a photo about 0.3 s on a CPU, and
# small calls keep the last actors of a run from waiting on one busy one.
PHOTOS_PER_BATCH = 2
# Calls queued at each actor beyond the running one: enough to hide the round trip.
QUEUED_PER_ACTOR = 2
PACKAGE_DIR = Path(__file__).resolve().parents[1]


def _import_ray():
    """``ray`` with Ray Data, or ``EngineUnavailable`` saying how to install it."""
    try:
        import ray
        import ray.data
    except ImportError as exc:
        raise EngineUnavailable(f"the ray engine needs Ray Data, which is not installed ({exc.name or exc}): {INSTALL_HINT}") from None
    return ray


class AnalyseBatch:
    """A Ray Data actor: the models, loaded once; each call analyses a batch of photos."""

    def __init__(self, settings, gallery: str):
        if settings.device.startswith("cuda"):
            # Ray gives the actor its GPU share through CUDA_VISIBLE_DEVICES: it is cuda:0 here.
            settings = settings.replace(device="cuda")
        indexer._init_worker(settings, 1)
        self.gallery = gallery

    def __call__(self, batch):
        import numpy as np

        results = [
            pickle.dumps(indexer._analyse_file((self.gallery, GalleryFile(str(path), int(size), int(mtime_ns)))))
            for path, size, mtime_ns in zip(batch["path"], batch["size"], batch["mtime_ns"])
        ]
        return {"result": np.array(results, dtype=object)}


class RayEngine:
    name = "ray"

    def __init__(self, settings):
        self.settings = settings
        self.ray = _import_ray()
        self.started_ray = False

    def __enter__(self):
        ray = self.ray
        if not ray.is_initialized():
            ray.init(
                address=self.settings.ray_address or None,
                runtime_env={"py_modules": [str(PACKAGE_DIR)], "excludes": ["__pycache__"]},
                logging_level=logging.WARNING,
                log_to_driver=True,  # an actor's traceback of a photo's internal error
            )
            self.started_ray = True
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False  # the indexer shows its own
        context.print_on_execution_start = False
        context.enable_auto_log_stats = False
        logging.getLogger("ray.data").setLevel(logging.WARNING)
        return self

    def __exit__(self, *exc):
        if self.started_ray:
            self.ray.shutdown()
            self.started_ray = False

    def actors(self) -> tuple[int, float]:
        """How many actors, and the GPUs each holds (0 on CPUs)."""
        resources = self.ray.cluster_resources()
        cpus = max(1, int(resources.get("CPU", 1)))
        if self.settings.device.startswith("cuda"):
            gpus = resources.get("GPU", 0)
            if not gpus:
                raise ValueError(f"device = {self.settings.device}, but the Ray cluster has no GPU")
            # several actors share a GPU, as local workers do (indexer.CUDA_WORKERS)
            return self.settings.index_workers or max(1, min(cpus, int(gpus * indexer.CUDA_WORKERS))), 1 / indexer.CUDA_WORKERS
        return self.settings.index_workers or cpus, 0

    def analyse(self, gallery, files):
        files = list(files)
        if not files:
            return
        count, gpus_each = self.actors()
        items = [{"path": f.path, "size": f.size, "mtime_ns": f.mtime_ns} for f in files]
        dataset = self.ray.data.from_items(items, override_num_blocks=math.ceil(len(items) / PHOTOS_PER_BATCH))
        analysed = dataset.map_batches(
            AnalyseBatch,
            fn_constructor_args=(self.settings, gallery),
            batch_size=PHOTOS_PER_BATCH,
            compute=self.ray.data.ActorPoolStrategy(size=count, max_tasks_in_flight_per_actor=QUEUED_PER_ACTOR),
            num_cpus=1,
            num_gpus=gpus_each,
        )
        for row in analysed.iter_rows():
            yield pickle.loads(row["result"])
