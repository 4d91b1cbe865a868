"""The Ray engine: the photos are analysed by a pool of actors on a Ray cluster, fed by Ray Data.

Each actor loads the detector and the embedder once (``worker.init_worker``, one torch thread,
as a local worker does) and analyses a few photos per call with ``worker.analyse_job``, so a
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
import socket
from pathlib import Path

from .. import worker
from ..gallery import GalleryFile
from .base import EngineUnavailable

INSTALL_HINT = "pip install -r requirements-ray.txt"
# Photos per actor call: a call costs Ray a few milliseconds, a photo about 0.3 s on a CPU, and
# small calls keep the last actors of a run from waiting on one busy one.
PHOTOS_PER_BATCH = 2
# Calls queued at each actor beyond the running one: enough to hide the round trip.
QUEUED_PER_ACTOR = 2
PACKAGE_DIR = Path(__file__).resolve().parents[1]
CONNECT_SECONDS = 10


def _import_ray():
    """``ray`` with Ray Data, or ``EngineUnavailable`` saying how to install it."""
    try:
        import ray
        import ray.data
    except ImportError as exc:
        raise EngineUnavailable(f"the ray engine needs Ray Data, which is not installed ({exc.name or exc}): {INSTALL_HINT}") from None
    return ray


def _check_reachable(address: str):
    """A head that does not answer is said at once (ray.init would retry for minutes)."""
    if not address or address == "auto":
        return
    host, _, port = address.removeprefix("ray://").rpartition(":")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_SECONDS).close()
    except OSError as exc:
        raise ValueError(
            f"the Ray cluster at {address} does not answer ({exc.strerror or exc}): is `ray start --head` running there, "
            f"and is its port open to this machine?"
        ) from None


class AnalyseBatch:
    """A Ray Data actor: the models, loaded once; each call analyses a batch of photos."""

    def __init__(self, settings, gallery: str):
        if settings.device.startswith("cuda"):
            # Ray gives the actor its GPU share through CUDA_VISIBLE_DEVICES: it is cuda:0 here.
            settings = settings.replace(device="cuda")
        worker.init_worker(settings, 1)
        self.gallery = gallery

    def __call__(self, batch):
        import numpy as np

        results = [
            pickle.dumps(worker.analyse_job((self.gallery, GalleryFile(str(path), int(size), int(mtime_ns)))))
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
            _check_reachable(self.settings.ray_address)
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
        # ... and without its warning that they are off
        logging.getLogger("ray.data._internal.progress").setLevel(logging.ERROR)
        return self

    def __exit__(self, *exc):
        if self.started_ray:
            self.ray.shutdown()
            self.started_ray = False

    def actors(self) -> tuple[int, float, float]:
        """How many actors, and the CPUs and GPUs each holds. More actors than the cluster has
        CPUs (``--workers``) share them, as more local workers than cores do."""
        resources = self.ray.cluster_resources()
        cpus = resources.get("CPU", 0)
        if cpus <= 0:
            raise ValueError("the Ray cluster has no CPUs to run actors on")
        if self.settings.device.startswith("cuda"):
            gpus = resources.get("GPU", 0)
            if not gpus:
                raise ValueError(f"device = {self.settings.device}, but the Ray cluster has no GPU")
            # several actors share a GPU, as local workers do (worker.CUDA_WORKERS)
            count = self.settings.index_workers or max(1, min(int(cpus), int(gpus * worker.CUDA_WORKERS)))
            return count, min(1.0, cpus / count), min(1 / worker.CUDA_WORKERS, gpus / count)
        count = self.settings.index_workers or max(1, int(cpus))
        return count, min(1.0, cpus / count), 0

    def analyse(self, gallery, files):
        files = list(files)
        if not files:
            return
        count, cpus_each, gpus_each = self.actors()
        items = [{"path": f.path, "size": f.size, "mtime_ns": f.mtime_ns} for f in files]
        dataset = self.ray.data.from_items(items, override_num_blocks=math.ceil(len(items) / PHOTOS_PER_BATCH))
        analysed = dataset.map_batches(
            AnalyseBatch,
            fn_constructor_args=(self.settings, gallery),
            batch_size=PHOTOS_PER_BATCH,
            compute=self.ray.data.ActorPoolStrategy(size=count, max_tasks_in_flight_per_actor=QUEUED_PER_ACTOR),
            num_cpus=cpus_each,
            num_gpus=gpus_each,
        )
        for row in analysed.iter_rows():
            yield pickle.loads(row["result"])
