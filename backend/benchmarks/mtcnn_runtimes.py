#!/usr/bin/env python3
"""MTCNN's first network (PNet) in each runtime tried for faster detection, on the pyramid levels
of real photos, one thread: the figures behind ``detector_runtime`` (latest results in
docs/speed.md, "Faster detection").

The pyramid levels of the first --photos photos under GALLERY (shrunk to 1600 px as indexing
does; smallest face 20 px) go through PNet in:

  torch          PyTorch, channels-last (``detector_runtime = "torch"``)
  ort            ONNX Runtime, all graph optimisations, on PNet exported to ONNX
  ort-int8       ONNX Runtime on PNet quantised to int8 (static, per channel, QDQ), calibrated on
                 the pyramid levels of CALIBRATION's photos (other photos than GALLERY's)
  openvino       OpenVINO, float32 (``detector_runtime = "openvino"``)
  openvino-bf16  OpenVINO at bfloat16 precision
  openvino-int8  OpenVINO on the int8 model above

The runtimes take turns level by level, so other load on the machine falls on them alike. For
each: ms a photo, the largest difference of face probability from PyTorch's, and PNet's cells
over its threshold (0.6) kept, lost and new against PyTorch's (a lost cell can be a lost face).
Then the whole cascade, PyTorch against OpenVINO, photo by photo: ms a photo, faces, and the
largest difference between their boxes.

usage:
  python backend/benchmarks/mtcnn_runtimes.py /tmp/bench-index/gallery ../shared/datasets/bbt/group
"""

from __future__ import annotations

import argparse
import io
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png"}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("gallery", help="photos to time on (an event gallery)")
    ap.add_argument("calibration", help="other photos, for int8 calibration")
    ap.add_argument("--photos", type=int, default=10)
    args = ap.parse_args()
    torch.set_num_threads(1)

    from faceexplore.faces.images import load_photo
    from faceexplore.faces.mtcnn import MTCNN

    def photos(folder, n):
        files = sorted(p for p in Path(folder).rglob("*") if p.suffix.lower() in PHOTO_SUFFIXES)[:n]
        return [load_photo(f, max_side=1600).pixels for f in files]

    images, calibration = photos(args.gallery, args.photos), photos(args.calibration, 4)
    levels = [level for pixels in images for level in pyramid(pixels)]
    print(f"{len(images)} photos of {images[0].shape[1]}x{images[0].shape[0]}, {len(levels)} pyramid levels; one thread")
    pnet_runtimes(levels, calibration, len(images))
    whole_cascade(images, MTCNN)
    print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


def pyramid(pixels, min_face_size=20):
    """MTCNN's pyramid levels (faceexplore.faces.mtcnn.MTCNN._propose makes the same)."""
    from faceexplore.faces.mtcnn import PYRAMID_FACTOR

    image, levels, scale = Image.fromarray(pixels), [], 12.0 / min_face_size
    while min(image.size) * scale >= 12:
        levels.append(np.asarray(image.resize((int(image.width * scale + 1), int(image.height * scale + 1)), Image.BOX)))
        scale *= PYRAMID_FACTOR
    return levels


def as_input(level):
    """HWC uint8 -> 1CHW float in [-1, 1], MTCNN's input."""
    return np.ascontiguousarray(((level.astype(np.float32) - 127.5) * 0.0078125).transpose(2, 0, 1)[None])


def pnet_runtimes(levels, calibration, photos):
    import onnxruntime as ort
    import openvino as ov
    from facenet_pytorch.models.mtcnn import PNet
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    net = PNet().eval()
    folder = Path(tempfile.mkdtemp(prefix="pnet-"))
    buffer = io.BytesIO()
    torch.onnx.export(net, torch.zeros(1, 3, 64, 64), buffer, input_names=["x"], dynamic_axes={"x": {0: "n", 2: "h", 3: "w"}}, dynamo=False)
    (folder / "pnet.onnx").write_bytes(buffer.getvalue())
    quant_pre_process(str(folder / "pnet.onnx"), str(folder / "pnet-pre.onnx"))
    samples = iter([as_input(level) for pixels in calibration for level in pyramid(pixels)[::2]])

    class Levels(CalibrationDataReader):
        def get_next(self):
            x = next(samples, None)
            return None if x is None else {"x": x}

    quantize_static(
        str(folder / "pnet-pre.onnx"),
        str(folder / "pnet-int8.onnx"),
        Levels(),
        quant_format=QuantFormat.QDQ,
        per_channel=True,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
    )
    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    ort32, ort8 = (
        ort.InferenceSession(str(folder / name), options, providers=["CPUExecutionProvider"]) for name in ("pnet.onnx", "pnet-int8.onnx")
    )
    core = ov.Core()

    def openvino(name, precision):
        config = {"INFERENCE_NUM_THREADS": 1, "PERFORMANCE_HINT": "LATENCY", "INFERENCE_PRECISION_HINT": precision}
        return core.compile_model(core.read_model(str(folder / name)), "CPU", config).create_infer_request()

    ov32, ovbf16, ov8 = openvino("pnet.onnx", "f32"), openvino("pnet.onnx", "bf16"), openvino("pnet-int8.onnx", "f32")
    torch_net = net.to(memory_format=torch.channels_last)
    inputs = [as_input(level) for level in levels]
    with torch.inference_mode():
        runtimes = {
            "torch": lambda x: torch_net(torch.from_numpy(x).contiguous(memory_format=torch.channels_last))[1].numpy(),
            "ort": lambda x: ort32.run(None, {"x": x})[1],
            "ort-int8": lambda x: ort8.run(None, {"x": x})[1],
            "openvino": lambda x: ov32.infer({0: x})[1].copy(),
            "openvino-bf16": lambda x: ovbf16.infer({0: x})[1].copy(),
            "openvino-int8": lambda x: ov8.infer({0: x})[1].copy(),
        }
        for run in runtimes.values():
            run(inputs[0])
        seconds = dict.fromkeys(runtimes, 0.0)
        difference = dict.fromkeys(runtimes, 0.0)
        cells = {name: np.zeros(3, int) for name in runtimes}
        for x in inputs:
            reference = None
            for name, run in runtimes.items():
                start = time.perf_counter()
                probability = run(x)
                seconds[name] += time.perf_counter() - start
                reference = probability if reference is None else reference
                difference[name] = max(difference[name], float(np.abs(probability[0, 1] - reference[0, 1]).max()))
                a, b = reference[0, 1] >= 0.6, probability[0, 1] >= 0.6
                cells[name] += [(a & b).sum(), (a & ~b).sum(), (~a & b).sum()]
    print("\n| PNet in | ms a photo | largest probability difference | cells over 0.6 kept / lost / new |")
    print("| --- | --- | --- | --- |")
    for name in runtimes:
        kept, lost, new = cells[name]
        print(f"| {name} | {1000 * seconds[name] / photos:.1f} | {difference[name]:.1e} | {kept} / {lost} / {new} |")


def whole_cascade(images, MTCNN):
    cascades = {runtime: MTCNN(min_face_size=20, runtime=runtime) for runtime in ("torch", "openvino")}
    for cascade in cascades.values():
        cascade.detect(images[0])
    seconds, faces, largest = dict.fromkeys(cascades, 0.0), dict.fromkeys(cascades, 0), 0.0
    for pixels in images:
        boxes = {}
        for runtime, cascade in cascades.items():
            start = time.perf_counter()
            boxes[runtime] = cascade.detect(pixels)[0]
            seconds[runtime] += time.perf_counter() - start
            faces[runtime] += 0 if boxes[runtime] is None else len(boxes[runtime])
        a, b = boxes["torch"], boxes["openvino"]
        if a is not None and b is not None and len(a) == len(b):
            largest = max(largest, float(np.abs(np.sort(a, 0) - np.sort(b, 0)).max()))
    print("\n| MTCNN, whole cascade | ms a photo | faces |")
    print("| --- | --- | --- |")
    for runtime in cascades:
        print(f"| {runtime} | {1000 * seconds[runtime] / len(images):.1f} | {faces[runtime]} |")
    print(f"largest difference between their boxes: {largest:.1e} px")


if __name__ == "__main__":
    main()
