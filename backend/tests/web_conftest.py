"""Helpers shared by the web tests (test_web_*.py): the BBT gallery index, sample files,
and a real gunicorn server in a subprocess."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
import urllib.request
import zlib
from contextlib import contextmanager, nullcontext
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

BACKEND = Path(__file__).resolve().parents[1]


# -- data ------------------------------------------------------------------------------------
def bbt_root() -> Path:
    root = os.environ.get("FACEEXPLORE_TEST_DATA")
    if not root:
        pytest.skip("FACEEXPLORE_TEST_DATA is not set: the web tests need ../shared/datasets (bbt/)")
    bbt = Path(root) / "bbt"
    if not (bbt / "truth.json").is_file() or not (bbt / "group").is_dir():
        pytest.fail(f"FACEEXPLORE_TEST_DATA={root} is set but {bbt} has no group/ and truth.json")
    return bbt


@contextmanager
def reusing_pipeline(pipeline):
    """In-process ``index_gallery`` (index_workers=1) with an already loaded pipeline (the session's,
    one torch thread) instead of loading the models again with a thread per core: on a busy
    machine torch's threads contend badly (a group photo takes 10x longer)."""
    from faceexplore.index import worker

    original = worker.init_worker

    def init(settings, threads):
        worker.pipeline = pipeline

    worker.init_worker = init
    try:
        yield
    finally:
        worker.init_worker = original


def build_bbt_index(tmp_path_factory, name: str, pipeline=None):
    """The 5 BBT group photos copied into a fresh gallery, indexed and clustered (one worker)."""
    from faceexplore.index.indexer import index_gallery
    from faceexplore.index.store import FaceIndex
    from faceexplore.people.clustering import cluster_index
    from faceexplore.settings import Settings

    bbt = bbt_root()
    base = tmp_path_factory.mktemp(name)
    gallery, data = base / "gallery", base / "data"
    copy_tree(bbt / "group", gallery / "group")
    # no access code: these sites are searched by tests about what comes after it (test_access_code.py)
    settings = Settings(data_dir=data, gallery_dir=gallery, index_workers=1, rate_limits="off", search_access="open")
    with reusing_pipeline(pipeline) if pipeline is not None else nullcontext():
        summary = index_gallery(settings, progress=False)
    assert summary.processed == 5 and not summary.errors, summary
    with FaceIndex(settings.index_path) as index:
        cluster_index(index, progress=lambda *a, **k: None)
    truth = json.loads((bbt / "truth.json").read_text())["group"]
    return settings, bbt, truth


def copy_tree(src, dst) -> None:
    """Copy files with their mtimes, but not the read-only modes of the shared data, so the
    copy is writable."""
    src, dst = Path(src), Path(dst)
    for path in sorted(src.rglob("*")):
        target = dst / path.relative_to(src)
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
            st = path.stat()  # same size and mtime: an index of src sees the copy as unchanged
            os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))


_SHARED: dict = {}


def shared_bbt_index(tmp_path_factory, pipeline=None):
    """The BBT index, built once per test session (the web test modules share it; building it
    runs face detection on every group photo). Treat it as read-only: use ``clone_index`` for a
    copy to change."""
    if "bbt" not in _SHARED:
        _SHARED["bbt"] = build_bbt_index(tmp_path_factory, "bbt-web", pipeline)
    return _SHARED["bbt"]


def clone_index(settings, tmp_path_factory, name: str):
    """A private copy of an index and its gallery (the database through SQLite's backup API)."""
    import sqlite3

    base = tmp_path_factory.mktemp(name)
    gallery, data = base / "gallery", base / "data"
    copy_tree(settings.gallery_dir, gallery)
    data.mkdir()
    src = sqlite3.connect(f"file:{settings.index_path}?mode=ro", uri=True)
    dst = sqlite3.connect(data / settings.index_path.name)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()
    return settings.replace(data_dir=data, gallery_dir=gallery)


def index_counts(settings) -> dict:
    from faceexplore.index.store import FaceIndex

    with FaceIndex(settings.index_path, readonly=True) as index:
        counts = index.counts()
    return {k: counts[k] for k in ("photos", "faces", "people", "last_indexed")}


def tree(root) -> dict:
    """Every file under root: relative path -> (size, mtime_ns)."""
    root = Path(root)
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(root.rglob("*")) if p.is_file()}


# -- sample files ----------------------------------------------------------------------------
def drawn_png(size=(400, 300)) -> bytes:
    """A plain drawing: a valid image without any face."""
    img = Image.new("RGB", size, (200, 220, 240))
    draw = ImageDraw.Draw(img)
    draw.rectangle((40, 40, 160, 140), fill=(250, 120, 30))
    draw.ellipse((220, 80, 360, 260), fill=(30, 120, 60))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def decompression_bomb_png(side: int = 40_000) -> bytes:
    """A tiny file claiming side x side pixels (1.6 gigapixels): must be refused unread."""
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + _png_chunk(b"IEND", b"")


def jpeg_bytes(path) -> bytes:
    """A portrait re-encoded as JPEG (the BBT portraits are PNG)."""
    buf = io.BytesIO()
    Image.open(path).convert("RGB").save(buf, "JPEG", quality=90)
    return buf.getvalue()


# -- a real server ---------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(settings, workers: int = 1, timeout: float = 240.0, log_path=None):
    """``python -m faceexplore.web.server`` on a free port; returns (process, base url) once
    /api/health answers, or fails the test (and stops the process) after ``timeout`` seconds."""
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "FACEEXPLORE_FRONTEND_DIR": "", "FACEEXPLORE_RATE_LIMITS": "off"}
    env.setdefault("FACEEXPLORE_SEARCH_ACCESS", settings.search_access or "open")  # as build_bbt_index
    log = open(log_path, "wb") if log_path else subprocess.DEVNULL
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "faceexplore.web.server",
            "--data",
            str(settings.data_dir),
            "--gallery",
            str(settings.gallery_dir),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        cwd=BACKEND,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            with urllib.request.urlopen(base + "/api/health", timeout=5) as r:
                if r.status == 200:
                    return proc, base
        except OSError:
            time.sleep(0.5)
    stop_server(proc)
    tail = Path(log_path).read_text(errors="replace")[-3000:] if log_path else ""
    pytest.fail(f"gunicorn did not answer /api/health within {timeout:.0f} s (exit {proc.returncode}):\n{tail}")


def stop_server(proc, timeout: float = 40.0) -> int | None:
    """SIGTERM (graceful), then SIGKILL to the process group after ``timeout`` seconds."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
    return proc.returncode
