"""MTCNN's three-stage cascade (Zhang et al., 2016) on facenet-pytorch's trained networks, run
the way a CPU likes it.

facenet-pytorch's own ``MTCNN.detect`` spends a large share of its time building the image
pyramid (``interpolate(mode="area")`` on float tensors) and runs its networks on channels-first
tensors, which oneDNN's convolutions and pooling handle more slowly than channels-last. Here the
pyramid is made by Pillow's box filter (the same area average, on uint8) and the networks run
channels-last, finding the same faces in less time (benchmarks/model_timing.py measures both
cascades; docs/speed.md); the stages, thresholds and non-maximum suppression are MTCNN's
own. The small levels, which find the large faces, are averaged from halvings of the photo
rather than from the photo itself (``reducing_gap``; benchmarks/mtcnn_pyramid.py compares
both). Candidates that run past the border are padded with black, as in the reference
implementation, instead of being cut and stretched.

The networks run in PyTorch (``runtime="torch"``) or in OpenVINO (``runtime="openvino"``, CPU
only), converted from the same PyTorch modules when the detector is made: nothing is downloaded
or written to disk, and the weights stay those of the installed facenet-pytorch. OpenVINO's CPU
kernels run these small convolutions faster (docs/speed.md, "Faster detection"); both give the
same outputs to float rounding (backend/tests/test_mtcnn.py).
"""

from __future__ import annotations

import threading
import warnings

import numpy as np
import torch
from PIL import Image
from torchvision.ops import nms

RUNTIMES = ("torch", "openvino")
STAGE_THRESHOLDS = (0.6, 0.7, 0.7)  # face probability each stage needs (MTCNN's defaults)
PYRAMID_FACTOR = 0.709  # each pyramid level is this times the previous (area halves)
PNET_STRIDE, PNET_CELL = 2, 12  # PNet sees 12x12 windows every 2 pixels
# Pyramid levels are averaged from a halving of the photo at least this many times their size
# (Pillow's resize(reducing_gap=3.0): "indistinguishable from fair resampling in most cases");
# None averages every level from the photo itself.
PYRAMID_REDUCING_GAP = 3.0


class MTCNN:
    """``detect(pixels)`` returns MTCNN's faces in an RGB uint8 array: boxes (n, 4) as x1, y1,
    x2, y2, probabilities (n,) and landmarks (n, 5, 2), or three ``None`` when there is none.
    ``reducing_gap``: how the pyramid's small levels are made (``_pyramid``); None makes every
    level from the photo itself, as facenet-pytorch does."""

    def __init__(
        self, min_face_size: int = 20, device: str = "cpu", runtime: str = "torch", reducing_gap: float | None = PYRAMID_REDUCING_GAP
    ):
        from facenet_pytorch.models.mtcnn import ONet, PNet, RNet

        if runtime not in RUNTIMES:
            raise ValueError(f"unknown MTCNN runtime {runtime!r}: one of {', '.join(RUNTIMES)}")
        if runtime == "openvino" and not device.startswith("cpu"):
            raise ValueError(f"the openvino runtime runs MTCNN on the CPU only, not on {device}")
        self.min_face_size, self.reducing_gap = min_face_size, reducing_gap
        self.device = torch.device(device)
        self.runtime = runtime
        networks = (PNet().eval(), RNet().eval(), ONet().eval())
        if runtime == "openvino":
            self.pnet, self.rnet, self.onet = (_OpenVINONetwork(net, side) for net, side in zip(networks, (None, 24, 48)))
        else:
            self.pnet, self.rnet, self.onet = (_TorchNetwork(net, self.device) for net in networks)

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

    def _propose(self, image: Image.Image) -> torch.Tensor:
        """Stage 1: PNet slides over every pyramid level; candidate boxes (n, 5): x1, y1, x2, y2
        and score, moved by PNet's box regression and made square."""
        found = []
        for scale, level in self._pyramid(image):
            regression, probability = self.pnet([level])
            score = probability[0, 1]
            ys, xs = torch.nonzero(score >= STAGE_THRESHOLDS[0], as_tuple=True)
            if len(ys):
                cells = torch.stack([xs, ys], 1).float()
                top_left = torch.floor((PNET_STRIDE * cells + 1) / scale)
                bottom_right = torch.floor((PNET_STRIDE * cells + PNET_CELL) / scale)
                boxes = torch.cat([top_left, bottom_right, score[ys, xs, None], regression[0, :, ys, xs].T], 1)
                found.append(boxes[nms(boxes[:, :4], boxes[:, 4], 0.5)])
        if not found:
            return torch.zeros(0, 5)
        boxes = torch.cat(found)
        boxes = boxes[nms(boxes[:, :4], boxes[:, 4], 0.7)]
        return _square(_regress(boxes[:, :5], boxes[:, 5:9], inclusive=False))

    def _pyramid(self, image: Image.Image):
        """(scale, level) from the largest level to the smallest. Each level is an area average
        (box filter) of the photo, at ``PYRAMID_FACTOR`` times the size of the one before.
        Averaging the whole photo down to every small level costs a large share of the
        cascade's time (docs/speed.md, "Faster detection"), so, with ``reducing_gap``, a level
        is averaged from the smallest of the photo's halvings (``Image.reduce(2)``, each made
        once) that is still at least ``reducing_gap`` times its size, as Pillow's own
        ``resize(reducing_gap=...)`` does with one reduction. The largest levels, where the
        smallest faces are found, still come from the photo itself."""
        w, h = image.size
        scale = 12.0 / self.min_face_size
        source = image
        while min(w, h) * scale >= 12:
            size = (int(w * scale + 1), int(h * scale + 1))
            while self.reducing_gap and min(source.width / size[0], source.height / size[1]) >= 2 * self.reducing_gap:
                source = source.reduce(2)
            yield scale, source.resize(size, Image.BOX)
            scale *= PYRAMID_FACTOR

    def _refine(self, image: Image.Image, boxes: torch.Tensor) -> torch.Tensor:
        """Stage 2: RNet rescores each candidate at 24x24 and corrects its box."""
        regression, probability = self.rnet(_crops(image, boxes, 24))
        keep = probability[:, 1] > STAGE_THRESHOLDS[1]
        boxes = torch.cat([boxes[keep, :4], probability[keep, 1:2]], 1)
        regression = regression[keep]
        pick = nms(boxes[:, :4], boxes[:, 4], 0.7)
        return _square(_regress(boxes[pick], regression[pick]))

    def _output(self, image: Image.Image, boxes: torch.Tensor):
        """Stage 3: ONet gives the final score, box and five landmarks at 48x48."""
        regression, landmarks, probability = self.onet(_crops(image, boxes, 48))
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


class _TorchNetwork:
    """One of MTCNN's networks in PyTorch: RGB images of one size in, its outputs (tensors on
    the device) out."""

    def __init__(self, net: torch.nn.Module, device: torch.device):
        self.net, self.device = net.to(device, memory_format=torch.channels_last), device

    def __call__(self, images: list[Image.Image]) -> tuple[torch.Tensor, ...]:
        # HWC uint8 -> NCHW float scaled to [-1, 1]; the permuted view is already channels-last
        batch = torch.from_numpy(np.stack([np.asarray(im) for im in images])).to(self.device)
        return self.net((batch.permute(0, 3, 1, 2).float() - 127.5) * 0.0078125)


class _OpenVINONetwork:
    """One of MTCNN's networks compiled by OpenVINO for this CPU, converted from its PyTorch
    module in memory. It takes the uint8 pixels as they are: the scaling to [-1, 1] and the
    change to channels-first are part of the compiled model. ``side``: the input's fixed side
    (RNet, ONet), or None for any size (PNet, on every pyramid level)."""

    def __init__(self, net: torch.nn.Module, side: int | None):
        import openvino as ov
        from openvino.preprocess import PrePostProcessor

        example = torch.zeros(1, 3, side or 64, side or 64)
        with warnings.catch_warnings():  # the conversion traces the module: PyTorch's deprecation notice of tracing
            warnings.simplefilter("ignore", FutureWarning)
            model = ov.convert_model(net, example_input=example, input=[ov.PartialShape([-1, 3, side or -1, side or -1])])
        steps = PrePostProcessor(model)
        steps.input().tensor().set_element_type(ov.Type.u8).set_layout(ov.Layout("NHWC"))
        steps.input().model().set_layout(ov.Layout("NCHW"))
        steps.input().preprocess().convert_element_type(ov.Type.f32).mean(127.5).scale(128.0)
        # As many threads as PyTorch was given (one per indexing worker); full float precision,
        # so that the boxes are PyTorch's.
        config = {"INFERENCE_NUM_THREADS": torch.get_num_threads(), "PERFORMANCE_HINT": "LATENCY", "INFERENCE_PRECISION_HINT": "f32"}
        self.compiled = ov.Core().compile_model(steps.build(), "CPU", config)
        # An infer request holds its buffers and must not run twice at once: one per thread (the
        # web workers' threads share one detector).
        self.requests = threading.local()

    def __call__(self, images: list[Image.Image]) -> tuple[torch.Tensor, ...]:
        request = getattr(self.requests, "request", None)
        if request is None:
            request = self.requests.request = self.compiled.create_infer_request()
        outputs = request.infer({0: np.stack([np.asarray(im) for im in images])})
        return tuple(torch.from_numpy(outputs[i].copy()) for i in range(len(outputs)))


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
