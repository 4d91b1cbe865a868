"""Helpers shared by the core package's tests: test photos, bad files, a tiny ONNX model, the CLI."""

from __future__ import annotations

import io
import os
import sqlite3
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
from PIL import Image


# -- photos ----------------------------------------------------------------------------------
def face_photo_path() -> Path:
    """A real face photo shipped by an installed package: matplotlib's portrait of Grace Hopper
    (512x600 JPEG, one frontal face). matplotlib is in requirements.txt."""
    import matplotlib.cbook

    return Path(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))


def face_image() -> Image.Image:
    with Image.open(face_photo_path()) as img:
        return img.convert("RGB")


def jpeg_bytes(img: Image.Image, **save_args) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", **save_args)
    return buf.getvalue()


def landscape(width: int, height: int, seed: int = 0) -> Image.Image:
    """A smooth, face-free picture (a blurred colour field), cheap to make at any size."""
    rng = np.random.default_rng(seed)
    small = Image.fromarray(rng.integers(40, 220, (6, 8, 3), dtype=np.uint8))
    return small.resize((width, height), Image.BICUBIC)


def three_faces(widths=(300, 180, 90)) -> np.ndarray:
    """A 1200x600 RGB picture with the portrait pasted three times, ``widths`` px wide, left to
    right at x = 40, 500 and 900."""
    canvas = landscape(1200, 600)
    for x, width in zip((40, 500, 900), widths):
        canvas.paste(face_image().resize((width, round(width * 1.17))), (x, 60))
    return np.asarray(canvas)


def iou(a, b) -> float:
    """Intersection over union of two x1, y1, x2, y2 boxes."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    inter = max(0, w) * max(0, h)
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


# -- bad files -------------------------------------------------------------------------------
def png_claiming_size(width: int, height: int) -> bytes:
    """A valid little PNG whose IHDR claims ``width`` x ``height`` (CRC fixed): a decompression
    bomb as far as any decoder that trusts the header is concerned."""
    buf = io.BytesIO()
    Image.new("L", (8, 8), 0).save(buf, "PNG")
    data = bytearray(buf.getvalue())
    assert data[12:16] == b"IHDR"
    data[16:20] = struct.pack(">I", width)
    data[20:24] = struct.pack(">I", height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])) & 0xFFFFFFFF)
    return bytes(data)


def write_bad_files(folder: Path) -> dict[str, str]:
    """Every kind of bad file a gallery holds; returns {relative path: kind}."""
    folder.mkdir(parents=True, exist_ok=True)
    good = jpeg_bytes(face_image(), quality=90)
    rng = np.random.default_rng(3)
    files = {
        "empty.jpg": (b"", "zero-byte"),
        "truncated.jpg": (good[: len(good) // 2], "truncated JPEG"),
        "garbage.jpg": (rng.integers(0, 256, 5000, dtype=np.uint8).tobytes(), "random bytes named .jpg"),
        "corrupt-header.jpg": (good[:600] + rng.integers(0, 256, 20000, dtype=np.uint8).tobytes(), "JPEG start, then corrupt bytes"),
        "notes.png": (b"these are my holiday notes, not a picture\n" * 20, "text named .png"),
        "bomb.png": (png_claiming_size(30000, 30000), "decompression bomb"),
    }
    for name, (content, _) in files.items():
        (folder / name).write_bytes(content)
    return {name: kind for name, (_, kind) in files.items()}


# what load_photo (and so the index) says about each of write_bad_files' files
BAD_FILE_MESSAGES = {
    "empty.jpg": "the file is empty",
    "truncated.jpg": "corrupt or truncated",
    "garbage.jpg": "not an image",
    "corrupt-header.jpg": "not an image",
    "notes.png": "not an image",
    "bomb.png": "too large to decode safely",
}


# -- a hand-written ONNX model -----------------------------------------------------------------
# The `onnx` package (needed by torch.onnx.export) is not a dependency, so this writes the
# protobuf of a tiny model directly: y = flatten(x) @ W, x (N, 3, S, S) float32, y (N, dim).
def _varint(n: int) -> bytes:
    out = bytearray()
    n &= (1 << 64) - 1
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(number: int, value) -> bytes:
    if isinstance(value, int):
        return _varint(number << 3) + _varint(value)
    if isinstance(value, str):
        value = value.encode()
    return _varint(number << 3 | 2) + _varint(len(value)) + bytes(value)


def _value_info(name: str, dims) -> bytes:
    shape = b"".join(_field(1, _field(2, d) if isinstance(d, str) else _field(1, d)) for d in dims)
    tensor_type = _field(1, 1) + _field(2, shape)  # elem_type FLOAT, shape
    return _field(1, name) + _field(2, _field(1, tensor_type))


def tiny_onnx_model(path: Path, input_size: int = 112, dim: int = 16, seed: int = 0) -> np.ndarray:
    """Write the model to ``path``; returns its weight matrix W (3*S*S, dim)."""
    features = 3 * input_size * input_size
    weights = np.random.default_rng(seed).normal(size=(features, dim)).astype(np.float32)
    tensor = b"".join(_field(1, d) for d in weights.shape) + _field(2, 1) + _field(8, "W") + _field(9, weights.tobytes())
    nodes = _field(1, _field(1, "x") + _field(2, "flat") + _field(3, "flatten") + _field(4, "Flatten"))
    nodes += _field(1, _field(1, "flat") + _field(1, "W") + _field(2, "y") + _field(3, "project") + _field(4, "MatMul"))
    graph = (
        nodes
        + _field(2, "tiny-face-model")
        + _field(5, tensor)
        + _field(11, _value_info("x", ["N", 3, input_size, input_size]))
        + _field(12, _value_info("y", ["N", dim]))
    )
    model = _field(1, 8) + _field(2, "faceexplore-tests") + _field(7, graph) + _field(8, _field(1, "") + _field(2, 13))
    Path(path).write_bytes(model)
    return weights


def central_face(analysed):
    """Index of the face nearest the photo's centre (LFW's subject), or None."""
    if not analysed.faces:
        return None
    cx, cy = analysed.width / 2, analysed.height / 2
    dist = [np.hypot((f.box[0] + f.box[2]) / 2 - cx, (f.box[1] + f.box[3]) / 2 - cy) for f in analysed.faces]
    return int(np.argmin(dist))


# -- the command line and the index ----------------------------------------------------------
def cli_env(**extra) -> dict:
    """The environment for a `faceexplore` subprocess: the caller's, less FACEEXPLORE_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FACEEXPLORE_") or k == "FACEEXPLORE_TEST_DATA"}
    # this checkout's package, not whichever one the virtual environment's editable install names
    backend = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join([backend, *filter(None, [env.get("PYTHONPATH")])])
    env.update({k: str(v) for k, v in extra.items()})
    return env


def cli_command(*args) -> list[str]:
    return [sys.executable, "-m", "faceexplore", *map(str, args)]


def run_cli(*args, cwd, timeout=300, env=None, **extra_env) -> subprocess.CompletedProcess:
    return subprocess.run(
        cli_command(*args),
        cwd=cwd,
        env=env or cli_env(**extra_env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def index_contents(index_path: Path) -> dict:
    """path -> (status, [(box, embedding), ...] sorted by x1), read straight from SQLite."""
    db = sqlite3.connect(f"file:{index_path}?mode=ro", uri=True)
    try:
        out = {}
        for pid, path, status in db.execute("SELECT id, path, status FROM photos"):
            faces = db.execute("SELECT x1, y1, x2, y2, embedding FROM faces WHERE photo_id = ? ORDER BY x1", (pid,)).fetchall()
            out[path] = (status, [(np.array(f[:4]), np.frombuffer(f[4], np.float32)) for f in faces])
        return out
    finally:
        db.close()
