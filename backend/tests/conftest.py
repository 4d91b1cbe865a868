"""Fixtures shared by the backend tests.

Shared data: FACEEXPLORE_TEST_DATA points at a datasets folder (../shared/datasets) holding
``bbt/`` and ``lfw-dev/``. Without the variable the tests that need it are skipped; with the
variable set but a data set missing they fail, so CI cannot pass by silently skipping them.
Tests that use it are marked ``@pytest.mark.shared_data("bbt")`` (naming the sub-folders).
"""

from __future__ import annotations

import os
import random
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import helpers  # noqa: E402

LFW_SAMPLE_SEED = 20240611
LFW_SAMPLE_PHOTOS = 150
LFW_SAMPLE_PER_PERSON = 3


def shared_dataset(name: str) -> Path:
    """The shared data set ``name``: skip when FACEEXPLORE_TEST_DATA is unset, fail when it is
    set but the data set is not there."""
    root = os.environ.get("FACEEXPLORE_TEST_DATA")
    if not root:
        pytest.skip(f"FACEEXPLORE_TEST_DATA not set: this test needs the shared data set {name}/ (../shared/datasets)")
    path = Path(root) / name
    if not path.is_dir() or not any(path.iterdir()):
        pytest.fail(f"FACEEXPLORE_TEST_DATA={root} is set, but it has no {name}/ data set ({path} is missing or empty)")
    return path


@pytest.fixture
def datasets(request) -> Path:
    """The shared datasets folder, after checking the sub-folders named by the test's
    ``shared_data`` marker (bbt and lfw-dev when it names none)."""
    marker = request.node.get_closest_marker("shared_data")
    names = (marker.args if marker and marker.args else None) or ("bbt", "lfw-dev")
    for name in names:
        shared_dataset(name)
    return Path(os.environ["FACEEXPLORE_TEST_DATA"])


@pytest.fixture(scope="session")
def bbt_dir() -> Path:
    bbt = shared_dataset("bbt")
    if not (bbt / "truth.json").is_file():
        pytest.fail(f"{bbt} has no truth.json")
    return bbt


@pytest.fixture(scope="session")
def lfw_dir() -> Path:
    return shared_dataset("lfw-dev")


# -- models ----------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def pipeline():
    """One FacePipeline (MTCNN + dlib) for the whole session: loading models costs seconds."""
    import torch

    from faceexplore.faces.pipeline import FacePipeline
    from faceexplore.settings import Settings

    torch.set_num_threads(1)  # the indexer's workers run one thread each too
    return FacePipeline.from_settings(Settings(index_workers=1))


@pytest.fixture(scope="session")
def face_photo() -> Path:
    return helpers.face_photo_path()


@pytest.fixture
def reuse_pipeline(monkeypatch, pipeline):
    """Make in-process ``index_gallery`` (index_workers=1) use the session's pipeline instead of
    loading the models again for every run (the subprocess tests cover the real start-up)."""
    from faceexplore.index import worker

    def init(settings, threads):
        assert settings.model == "dlib"
        worker.pipeline = pipeline

    monkeypatch.setattr(worker, "init_worker", init)
    return pipeline


# -- indexes built once ----------------------------------------------------------------------
@pytest.fixture(scope="session")
def bbt_index(bbt_dir, tmp_path_factory):
    """One real `faceexplore index --workers 2` of the BBT folder (45 photos: 40 portraits, 5
    group photos), uninterrupted. Returns (gallery, data dir, completed process)."""
    gallery = tmp_path_factory.mktemp("bbt-gallery")
    shutil.copytree(bbt_dir / "people", gallery / "people")
    shutil.copytree(bbt_dir / "group", gallery / "group")
    data = tmp_path_factory.mktemp("bbt-data")
    proc = helpers.run_cli("--data", data, "index", gallery, "--workers", 2, "--quiet", cwd=data)
    assert proc.returncode == 0, proc.stderr
    return gallery, data, proc


@pytest.fixture(scope="session")
def lfw_sample(lfw_dir):
    """A fixed random sample of LFW_SAMPLE_PHOTOS photos: people with at least two photos, up to
    LFW_SAMPLE_PER_PERSON photos each. Returns [(person, path), ...]."""
    people = [(d.name, sorted(d.glob("*.jpg"))) for d in sorted(lfw_dir.iterdir()) if d.is_dir()]
    multi = [(name, files) for name, files in people if len(files) >= 2]
    rng = random.Random(LFW_SAMPLE_SEED)
    rng.shuffle(multi)
    sample = []
    for name, files in multi:
        if len(sample) >= LFW_SAMPLE_PHOTOS:
            break
        sample += [(name, f) for f in rng.sample(files, min(LFW_SAMPLE_PER_PERSON, len(files)))]
    assert len(sample) >= LFW_SAMPLE_PHOTOS, f"{lfw_dir} has too few people with two photos or more"
    return sample


@pytest.fixture(scope="session")
def lfw_analysed(lfw_sample, pipeline):
    """Every sampled LFW photo through the pipeline: [(person, path, AnalysedPhoto), ...]."""
    return [(person, path, pipeline.analyse(path)) for person, path in lfw_sample]
