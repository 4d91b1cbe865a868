"""Any ONNX face model (an ArcFace, say), run by onnxruntime on 5-point aligned faces."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from .base import FaceEmbedder, ModelWeightsMissing, face_region, normalise

# The usual 5-point template (eyes, nose, mouth corners) of a 112x112 ArcFace input.
ARCFACE_TEMPLATE_112 = np.array(
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]],
    np.float64,
)


def similarity_transform(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares similarity (rotation, uniform scale, shift) taking src points to dst
    (Umeyama 1991). Returns a 2x3 matrix."""
    src_mean, dst_mean = src.mean(0), dst.mean(0)
    src_c, dst_c = src - src_mean, dst - dst_mean
    cov = dst_c.T @ src_c / len(src)
    u, s, vt = np.linalg.svd(cov)
    d = np.ones(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        d[-1] = -1
    rotation = u @ np.diag(d) @ vt
    scale = (s * d).sum() / src_c.var(0).sum()
    shift = dst_mean - scale * rotation @ src_mean
    return np.hstack([scale * rotation, shift[:, None]])


class OnnxEmbedder(FaceEmbedder):
    dim = 0
    face_pixels = 128

    def __init__(self, path: str, input_size: int = 112, mean: float = 127.5, std: float = 127.5):
        if not path or not Path(path).is_file():
            raise ModelWeightsMissing(
                f"the ONNX face model {path or '(none given)'} was not found: set onnx_model in the "
                f"settings file or FACEEXPLORE_ONNX_MODEL to the path of a .onnx face-embedding model"
            )
        import onnxruntime

        self.session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        self.input_name = self.session.get_inputs()[0].name
        self.input_size, self.mean, self.std = input_size, mean, std
        self.template = ARCFACE_TEMPLATE_112 * (input_size / 112.0)
        self.dim = int(self.session.get_outputs()[0].shape[-1])
        self.name = f"onnx-{Path(path).stem}-{self.dim}"

    def aligned(self, region, landmarks) -> np.ndarray:
        # PIL's affine transform maps output to input, so invert the template->landmarks fit.
        matrix = similarity_transform(self.template, np.asarray(landmarks, np.float64))
        img = Image.fromarray(region).transform((self.input_size, self.input_size), Image.AFFINE, matrix.flatten().tolist(), Image.BILINEAR)
        return np.asarray(img, np.float32)

    def embed(self, pixels, faces, scale=1.0):
        if not faces:
            return np.zeros((0, self.dim), np.float32)
        chips = []
        for face in faces:
            region, _, landmarks = face_region(pixels, face, scale, self.face_pixels)
            chips.append(self.aligned(region, landmarks))
        batch = ((np.stack(chips) - self.mean) / self.std).transpose(0, 3, 1, 2).astype(np.float32)
        out = np.concatenate([self.session.run(None, {self.input_name: batch[i : i + 1]})[0] for i in range(len(batch))])
        return normalise(out.reshape(len(batch), -1))
