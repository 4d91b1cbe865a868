"""MTCNN's three-stage cascade (Zhang et al., 2016) on facenet-pytorch's trained networks, run
the way a CPU likes it.

facenet-pytorch's own ``MTCNN.detect`` spends a large share of its time building the image
pyramid (``interpolate(mode="area")`` on float tensors) and runs its networks on channels-first
tensors, which oneDNN's convolutions and pooling handle more slowly than channels-last. Here the
pyramid is made by Pillow's box filter (the same area average, on uint8) and the networks run
channels-last, finding the same faces in less time (benchmarks/model_timing.py measures both
cascades; docs/speed.md); the stages, thresholds and non-maximum suppression are MTCNN's
own. Candidates that run past the border are padded with black, as in the reference
implementation, instead of being cut and stretched.
"""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image
from torchvision.ops import nms

STAGE_THRESHOLDS = (0.6, 0.7, 0.7)  # face probability each stage needs (MTCNN's defaults)
PYRAMID_FACTOR = 0.709  # each pyramid level is this times the previous (area halves)
PNET_STRIDE, PNET_CELL = 2, 12  # PNet sees 12x12 windows every 2 pixels


class MTCNN:
    """``detect(pixels)`` returns MTCNN's faces in an RGB uint8 array: boxes (n, 4) as x1, y1,
    x2, y2, probabilities (n,) and landmarks (n, 5, 2), or three ``None`` when there is none."""

    def __init__(self, min_face_size: int = 20, device: str = "cpu"):
        from facenet_pytorch.models.mtcnn import ONet, PNet, RNet

        self.min_face_size = min_face_size
        self.device = torch.device(device)
        self.pnet, self.rnet, self.onet = (
            net.eval().to(self.device, memory_format=torch.channels_last) for net in (PNet(), RNet(), ONet())
        )

    @torch.inference_mode()
    def detect(self, pixels: np.ndarray):
        image = Image.fromarray(np.ascontiguousarray(pixels[..., :3]))
        boxes = self._propose(image)
        if len(boxes):
            boxes = self._refine(image, boxes)
        if not len(boxes):
            return None, None, None
        boxes, probs, points = self._output(image, boxes)
        if not len(boxes):
            return None, None, None
        return boxes, probs, points

    def _tensor(self, images: list[Image.Image]) -> torch.Tensor:
        # HWC uint8 -> NCHW float scaled to [-1, 1]; the permuted view is already channels-last
        batch = torch.from_numpy(np.stack([np.asarray(im) for im in images])).to(self.device)
        return (batch.permute(0, 3, 1, 2).float() - 127.5) * 0.0078125

    def _propose(self, image: Image.Image) -> torch.Tensor:
        """Stage 1: PNet slides over every pyramid level; candidate boxes (n, 5): x1, y1, x2, y2
        and score, moved by PNet's box regression and made square."""
        w, h = image.size
        scale = 12.0 / self.min_face_size
        found = []
        while min(w, h) * scale >= 12:
            level = image.resize((int(w * scale + 1), int(h * scale + 1)), Image.BOX)
            regression, probability = self.pnet(self._tensor([level]))
            score = probability[0, 1]
            ys, xs = torch.nonzero(score >= STAGE_THRESHOLDS[0], as_tuple=True)
            if len(ys):
                cells = torch.stack([xs, ys], 1).float()
                top_left = torch.floor((PNET_STRIDE * cells + 1) / scale)
                bottom_right = torch.floor((PNET_STRIDE * cells + PNET_CELL) / scale)
                boxes = torch.cat([top_left, bottom_right, score[ys, xs, None], regression[0, :, ys, xs].T], 1)
                found.append(boxes[nms(boxes[:, :4], boxes[:, 4], 0.5)])
            scale *= PYRAMID_FACTOR
        if not found:
            return torch.zeros(0, 5)
        boxes = torch.cat(found)
        boxes = boxes[nms(boxes[:, :4], boxes[:, 4], 0.7)]
        return _square(_regress(boxes[:, :5], boxes[:, 5:9], inclusive=False))

    def _refine(self, image: Image.Image, boxes: torch.Tensor) -> torch.Tensor:
        """Stage 2: RNet rescores each candidate at 24x24 and corrects its box."""
        regression, probability = self.rnet(self._tensor(_crops(image, boxes, 24)))
        keep = probability[:, 1] > STAGE_THRESHOLDS[1]
        boxes = torch.cat([boxes[keep, :4], probability[keep, 1:2]], 1)
        regression = regression[keep]
        pick = nms(boxes[:, :4], boxes[:, 4], 0.7)
        return _square(_regress(boxes[pick], regression[pick]))

    def _output(self, image: Image.Image, boxes: torch.Tensor):
        """Stage 3: ONet gives the final score, box and five landmarks at 48x48."""
        regression, landmarks, probability = self.onet(self._tensor(_crops(image, boxes, 48)))
        keep = probability[:, 1] > STAGE_THRESHOLDS[2]
        boxes = torch.cat([boxes[keep, :4], probability[keep, 1:2]], 1)
        landmarks, regression = landmarks[keep], regression[keep]
        width = (boxes[:, 2] - boxes[:, 0] + 1)[:, None]
        height = (boxes[:, 3] - boxes[:, 1] + 1)[:, None]
        points = torch.stack([width * landmarks[:, :5] + boxes[:, :1] - 1, height * landmarks[:, 5:] + boxes[:, 1:2] - 1], 2)
        boxes = _regress(boxes, regression)
        pick = _nms_of_smaller(boxes[:, :4], boxes[:, 4], 0.7)
        boxes, points = boxes[pick].cpu().numpy(), points[pick].cpu().numpy()
        return boxes[:, :4], boxes[:, 4], points


def _regress(boxes: torch.Tensor, regression: torch.Tensor, inclusive: bool = True) -> torch.Tensor:
    """Boxes (n, 5) moved by the network's regression, given in box widths and heights (PNet's
    were learned on widths that leave out the last pixel)."""
    size = (boxes[:, 2:4] - boxes[:, 0:2] + int(inclusive)).repeat(1, 2)
    return torch.cat([boxes[:, :4] + regression * size, boxes[:, 4:5]], 1)


def _square(boxes: torch.Tensor) -> torch.Tensor:
    """Each box grown to a square around its centre (the networks see square windows)."""
    size = (boxes[:, 2:4] - boxes[:, 0:2]).max(1, keepdim=True).values
    corner = (boxes[:, 0:2] + boxes[:, 2:4] - size) / 2
    return torch.cat([corner, corner + size, boxes[:, 4:5]], 1)


def _crops(image: Image.Image, boxes: torch.Tensor, side: int) -> list[Image.Image]:
    """Each box cut out (black beyond the photo's border) and resized to side x side by area
    averaging, as the pyramid."""
    whole = boxes[:, :4].trunc().int().tolist()
    # a box spans its last pixel: x2 + 1 is the exclusive edge Pillow wants
    return [image.crop((x1 - 1, y1 - 1, x2, y2)).resize((side, side), Image.BOX) for x1, y1, x2, y2 in whole]


def _nms_of_smaller(boxes: torch.Tensor, scores: torch.Tensor, threshold: float) -> torch.Tensor:
    """Non-maximum suppression where overlap is measured against the smaller box: the last
    stage's rule, which drops a box lying mostly inside a more probable one."""
    order = torch.argsort(scores, descending=True)
    area = (boxes[:, 2] - boxes[:, 0] + 1) * (boxes[:, 3] - boxes[:, 1] + 1)
    keep = []
    while len(order):
        i, rest = order[0], order[1:]
        keep.append(int(i))
        w = (torch.minimum(boxes[i, 2], boxes[rest, 2]) - torch.maximum(boxes[i, 0], boxes[rest, 0]) + 1).clamp(min=0)
        h = (torch.minimum(boxes[i, 3], boxes[rest, 3]) - torch.maximum(boxes[i, 1], boxes[rest, 1]) + 1).clamp(min=0)
        overlap = w * h / torch.minimum(area[i], area[rest])
        order = rest[overlap <= threshold]
    return torch.as_tensor(keep, dtype=torch.long, device=boxes.device)
