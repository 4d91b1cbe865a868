"""facenet-pytorch's InceptionResnetV1 trained on VGGFace2 (512-d)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from .base import FaceEmbedder, ModelWeightsMissing, normalise

WEIGHTS_FILE = "20180402-114759-vggface2.pt"
VGGFACE2_CLASSES = 8631  # the checkpoint carries its classifier; loaded, then unused


def default_weights_path() -> Path:
    import torch.hub

    return Path(torch.hub.get_dir()).parent / "checkpoints" / WEIGHTS_FILE


class FacenetEmbedder(FaceEmbedder):
    name = "facenet-vggface2"
    dim = 512
    face_pixels = 160

    def __init__(self, weights: str | None = None, device: str = "cpu", offline: bool = False):
        """``offline``: a missing weights file is an error instead of a download (settings.offline)."""
        import torch
        from facenet_pytorch import InceptionResnetV1

        self._torch = torch
        self.device = device
        path = Path(weights) if weights else default_weights_path()
        model = InceptionResnetV1(classify=False, num_classes=VGGFACE2_CLASSES)
        if path.is_file():
            model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
        elif weights or offline:
            raise ModelWeightsMissing(self._missing_message(path))
        else:
            # facenet-pytorch downloads the weights into the torch hub cache where the
            # internet is reachable.
            try:
                model = InceptionResnetV1(pretrained="vggface2", classify=False)
            except Exception as exc:
                raise ModelWeightsMissing(f"{self._missing_message(path)} (download failed: {exc})") from None
        self.model = model.eval().to(device)

    @staticmethod
    def _missing_message(path: Path) -> str:
        return (
            f"the facenet model's weights {WEIGHTS_FILE} are not at {path}. Download them on a "
            f"machine with internet access (facenet-pytorch's release v2.2.9) and put the file "
            f"there, or point FACEEXPLORE_FACENET_WEIGHTS (settings key facenet_weights) at it; "
            f"or use the default model, --model dlib, which needs no download."
        )

    def embed(self, pixels, faces, scale=1.0):
        from .base import face_region

        if not faces:
            return np.zeros((0, self.dim), np.float32)
        chips = []
        for face in faces:
            region, box, _ = face_region(pixels, face, scale, self.face_pixels)
            x1, y1, x2, y2 = (int(round(v)) for v in box)
            chip = Image.fromarray(region).crop((x1, y1, x2, y2)).resize((160, 160), Image.BILINEAR)
            chips.append(np.asarray(chip, np.float32))
        # facenet-pytorch's fixed_image_standardization
        batch = (np.stack(chips).transpose(0, 3, 1, 2) - 127.5) / 128.0
        with self._torch.no_grad():
            out = self.model(self._torch.from_numpy(batch).to(self.device)).cpu().numpy()
        return normalise(out)
