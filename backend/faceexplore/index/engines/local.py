"""The local engine: a pool of worker processes on this machine, each with its own detector and
embedder (``worker.init_worker``), one thread each so that every core is busy."""

from __future__ import annotations

import multiprocessing as mp
import os

from .. import worker


class LocalEngine:
    name = "local"

    def __init__(self, settings):
        self.settings = settings
        cpus = os.cpu_count() or 1
        if settings.device.startswith("cuda"):
            self.workers = settings.index_workers or min(cpus, worker.CUDA_WORKERS)
        else:
            self.workers = settings.index_workers or cpus
        self.threads = max(1, cpus // self.workers)
        self.pool = None

    def __enter__(self):
        if self.workers == 1:
            worker.init_worker(self.settings, self.threads)  # in this process
        else:
            # spawn: a forked copy of a process that already runs torch threads can deadlock
            context = mp.get_context("spawn")
            self.pool = context.Pool(self.workers, initializer=worker.init_worker, initargs=(self.settings, self.threads))
        return self

    def __exit__(self, *exc):
        if self.pool is not None:
            self.pool.terminate()
            self.pool.join()
            self.pool = None

    def analyse(self, gallery, files):
        jobs = ((gallery, f) for f in files)
        if self.pool is None:
            return map(worker.analyse_job, jobs)
        return self.pool.imap_unordered(worker.analyse_job, jobs, chunksize=1)
