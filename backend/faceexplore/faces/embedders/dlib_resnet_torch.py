"""dlib's face recognition ResNet (dlib_face_recognition_resnet_model_v1) in PyTorch.

The weights are read straight from dlib's own ``.dat`` file, so no conversion step and no
dlib import is needed. The network is ``anet_type`` of dlib's dnn_face_recognition_ex.cpp:

    loss_metric<fc_no_bias<128, avg_pool_everything<
        alevel0<alevel1<alevel2<alevel3<alevel4<
        max_pool<3,3,2,2, relu<affine<con<32,7,7,2,2, input_rgb_image_sized<150>>>>>>>>>>>>>

    alevel4 = 3 x ares<32>             (35x35)
    alevel3 = ares_down<64>  + 3 ares  (17x17)
    alevel2 = ares_down<128> + 2 ares  (8x8)
    alevel1 = ares_down<256> + 2 ares  (4x4)
    alevel0 = ares_down<256>           (2x2)

    ares      = relu(block<N,stride 1>(x) + x)                    (add_prev1 to tag1)
    ares_down = relu(block<N,stride 2>(x) + avg_pool<2,2,2,2>(x))  (skip1 back to tag1)
    block     = affine(con<N,3,3,1,1>(relu(affine(con<N,3,3,stride,stride>(x)))))

How dlib's layers map to torch:

- ``input_rgb_image_sized``: (pixel - stored mean colour) / 256, RGB order.
- ``con_``: a biased convolution, filters laid out (out, in, rows, cols) like torch's. Its
  default padding is kernel//2 only when the stride is 1, and 0 otherwise, so every strided
  convolution here is unpadded (dlib also writes the padding into the file; we use that).
- ``affine_``: batch normalisation frozen into a per-channel scale and shift. It always
  follows a ``con_``, so it is folded into that convolution's weights and bias.
- ``max_pool`` / ``avg_pool<2,2,2,2>``: strided, so unpadded, like torch's defaults.
- ``add_prev``: adds two tensors of possibly different shapes into one of the larger shape,
  reading missing entries as zero (tt::add). That pads the skip path's extra channels, and
  in alevel1 the 3x3 main path against the 4x4 pooled skip path (3x3 from the unpadded
  strided conv on 8x8, 4x4 from the pool), aligned at the top-left corner.
- ``avg_pool_everything``: mean over the whole remaining 2x2 map.
- ``fc_no_bias``: stored as an (inputs, outputs) matrix, i.e. torch's weight transposed.
- ``loss_metric``: passes the fc output through unchanged; dlib does not normalise it.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

# (filters, stride) of each residual unit, input to output, as anet_type defines them.
ANET_UNITS = [(32, 1)] * 3 + [(64, 2)] + [(64, 1)] * 3 + [(128, 2)] + [(128, 1)] * 2 + [(256, 2)] + [(256, 1)] * 2 + [(256, 2)]
CHIP_SIZE = 150


class DlibResNet(nn.Module):
    """dlib's ``anet_type``: (N, 3, 150, 150) RGB values 0..255 -> (N, 128) descriptors."""

    def __init__(self, mean_rgb=(0.0, 0.0, 0.0), units=ANET_UNITS):
        super().__init__()
        self.register_buffer("mean_rgb", torch.tensor(mean_rgb, dtype=torch.float32).view(1, 3, 1, 1))
        self.conv1 = nn.Conv2d(3, 32, 7, stride=2)
        layers, channels = [], 32
        for filters, stride in units:
            layers.append(ResidualUnit(channels, filters, stride))
            channels = filters
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(channels, 128, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[1:] != (3, CHIP_SIZE, CHIP_SIZE):
            raise ValueError(f"expected (N, 3, {CHIP_SIZE}, {CHIP_SIZE}) RGB chips, got {tuple(x.shape)}")
        # oneDNN's CPU convolutions run faster on channels-last tensors.
        x = (x.contiguous(memory_format=torch.channels_last) - self.mean_rgb) / 256.0
        x = F.max_pool2d(F.relu(self.conv1(x)), 3, stride=2)
        x = self.layers(x)
        return self.fc(x.mean(dim=(2, 3)))


class ResidualUnit(nn.Module):
    """``ares`` (stride 1) or ``ares_down`` (stride 2), each affine folded into its conv."""

    def __init__(self, in_channels: int, filters: int, stride: int):
        super().__init__()
        # con_'s default padding: kernel//2 at stride 1, none when strided.
        self.conv1 = nn.Conv2d(in_channels, filters, 3, stride=stride, padding=1 if stride == 1 else 0)
        self.conv2 = nn.Conv2d(filters, filters, 3, padding=1)
        self.downsample = stride != 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv2(F.relu(self.conv1(x)))
        skip = F.avg_pool2d(x, 2, stride=2) if self.downsample else x
        return F.relu(add_zero_padded(y, skip))


def add_zero_padded(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """dlib's tt::add for unequal shapes: the sum over the larger shape, missing entries 0."""
    if a.shape == b.shape:
        return a + b
    c, h, w = (max(p, q) for p, q in zip(a.shape[1:], b.shape[1:]))

    def pad(t):
        return F.pad(t, (0, w - t.shape[3], 0, h - t.shape[2], 0, c - t.shape[1]))

    return pad(a) + pad(b)


def load_dlib_resnet(path) -> DlibResNet:
    """The face recognition ResNet in dlib's ``.dat`` file at ``path``, in eval mode.

    Raises ValueError when the file is not that network serialised by dlib.
    """
    with open(path, "rb") as stream:
        data = stream.read()
    if data[:3] == b"BZh":
        raise ValueError(f"{path} is bzip2-compressed: decompress it first (bunzip2)")
    try:
        mean_rgb, layers = _read_anet(_DatReader(data))
        model = DlibResNet(mean_rgb)
        _assign_weights(model, layers)
    except (ValueError, IndexError) as exc:  # IndexError: the file ends mid-field
        raise ValueError(f"{path} is not dlib's face recognition ResNet: {exc}") from None
    return model.to(memory_format=torch.channels_last).eval()


# ---------------------------------------------------------------------------------------
# dlib's serialisation (dlib/serialize.h, dlib/dnn/{core,layers,input,loss}.h)


class _DatReader:
    """Reads dlib's serialised primitives from a byte string."""

    def __init__(self, data: bytes):
        self.data, self.pos = data, 0

    def int(self) -> int:
        # One control byte: low nibble = byte count, 0x80 = negative; then little-endian magnitude.
        if self.pos >= len(self.data):
            raise ValueError("file ends early")
        control = self.data[self.pos]
        size = control & 0x0F
        if size == 0 or size > 8 or control & 0x70:
            raise ValueError(f"bad integer at byte {self.pos}")
        value = int.from_bytes(self.data[self.pos + 1 : self.pos + 1 + size], "little")
        self.pos += 1 + size
        return -value if control & 0x80 else value

    def str(self) -> str:
        # Only layer names are read here: short ASCII, anything else means a foreign file.
        start, size = self.pos, self.int()
        text = self.data[self.pos : self.pos + size]
        if size > 64 or len(text) != size or not text.isascii() or not text.decode().isprintable():
            raise ValueError(f"no layer name at byte {start}")
        self.pos += size
        return text.decode()

    def peek_str(self) -> str | None:
        start = self.pos
        try:
            return self.str()
        except (ValueError, IndexError):
            return None
        finally:
            self.pos = start

    def float(self) -> float:
        # float_details: mantissa * 2**exponent, with three reserved exponents.
        mantissa, exponent = self.int(), self.int()
        special = {32000: math.inf, 32001: -math.inf, 32002: math.nan}
        return special[exponent] if exponent in special else math.ldexp(mantissa, exponent)

    def bool(self) -> bool:
        char = self.data[self.pos : self.pos + 1]
        self.pos += 1
        if char not in (b"0", b"1"):
            raise ValueError(f"bad bool at byte {self.pos - 1}")
        return char == b"1"

    def tensor(self) -> np.ndarray:
        # resizable_tensor version 2: n, k, nr, nc, then raw little-endian float32.
        version = self.int()
        if version != 2:
            raise ValueError(f"unsupported tensor version {version}")
        shape = [self.int() for _ in range(4)]
        count = int(np.prod(shape))
        if min(shape) < 0 or self.pos + 4 * count > len(self.data):
            raise ValueError(f"truncated tensor at byte {self.pos}")
        values = np.frombuffer(self.data, "<f4", count, self.pos)
        self.pos += 4 * count
        return values.astype(np.float32).reshape(shape)

    def alias(self) -> list[int]:
        if self.int() != 1:
            raise ValueError("unsupported alias_tensor version")
        return [self.int() for _ in range(4)]

    def expect(self, text: str):
        found = self.str()
        if found != text:
            raise ValueError(f"expected {text!r} at byte {self.pos}, found {found!r}")


def _read_anet(reader: _DatReader):
    """Mean colour and the layers, input to output, of the serialised network.

    add_loss_layer writes its loss then its subnet; each add_layer writes a version number,
    its subnet, then its own details; tags and skips write version 1 and their subnet only.
    So the stream holds every wrapper's version from the output inward, then the input layer,
    then each layer's details from the input outward. Layers come back as (type, fields);
    tags and skips, which the stream cannot tell apart, as ("tag_or_skip", None).
    """
    if reader.int() != 1:
        raise ValueError("unexpected loss layer version")
    loss = reader.str()
    if loss == "loss_metric_2":
        reader.float(), reader.float()  # margin, distance threshold: training only
    elif loss != "loss_metric_":
        raise ValueError(f"loss layer is {loss!r}, not loss_metric")

    wrappers = []  # versions, output to input
    while True:
        version = reader.int()
        if version in (2, 3) and reader.peek_str() == "input_rgb_image_sized":
            input_version = version
            break
        if version not in (1, 2):
            raise ValueError(f"unexpected layer version {version}")
        wrappers.append(version)
        if len(wrappers) > 10_000:
            raise ValueError("runaway layer nesting")

    reader.expect("input_rgb_image_sized")
    mean_rgb = (reader.float(), reader.float(), reader.float())
    rows, cols = reader.int(), reader.int()
    if (rows, cols) != (CHIP_SIZE, CHIP_SIZE):
        raise ValueError(f"input size {rows}x{cols}, expected {CHIP_SIZE}x{CHIP_SIZE}")
    layers = [_read_layer(reader, input_version)]
    for version in reversed(wrappers):
        layers.append(("tag_or_skip", None) if version == 1 else _read_layer(reader, version))
    if reader.pos != len(reader.data):
        raise ValueError(f"{len(reader.data) - reader.pos} bytes left after the network")
    return mean_rgb, layers


def _read_layer(reader: _DatReader, version: int):
    """One add_layer's details plus its bookkeeping fields (state flags, cached tensors)."""
    kind = reader.str()
    if kind == "con_4":
        params = reader.tensor()
        filters, rows, cols, stride_y, stride_x, pad_y, pad_x = (reader.int() for _ in range(7))
        shape, _bias_shape = reader.alias(), reader.alias()
        for _ in range(4):
            reader.float()  # learning-rate / weight-decay multipliers: training only
        if shape != [filters, shape[1], rows, cols]:
            raise ValueError(f"con_ filter shape {shape} inconsistent")
        size = int(np.prod(shape))
        flat = params.reshape(-1)
        if flat.size != size + filters:
            raise ValueError("con_ parameter count mismatch")
        fields = dict(
            weight=flat[:size].reshape(shape),
            bias=flat[size:],
            stride=(stride_y, stride_x),
            padding=(pad_y, pad_x),
        )
    elif kind == "affine_":
        params = reader.tensor().reshape(-1)
        gamma, _beta = reader.alias(), reader.alias()
        if reader.int() != 0:  # layer_mode: CONV_MODE = 0 (per channel), FC_MODE = 1
            raise ValueError("affine_ layer not in convolutional mode")
        channels = int(np.prod(gamma))
        fields = dict(gamma=params[:channels], beta=params[channels:])
    elif kind in ("max_pool_2", "avg_pool_2"):
        names = ("rows", "cols", "stride_y", "stride_x", "pad_y", "pad_x")
        fields = {name: reader.int() for name in names}
    elif kind == "fc_2":
        outputs, inputs = reader.int(), reader.int()
        params = reader.tensor().reshape(-1)
        reader.alias(), reader.alias()
        if reader.int() != 1:  # fc_bias_mode: FC_HAS_BIAS = 0, FC_NO_BIAS = 1
            raise ValueError("fc layer has a bias; expected fc_no_bias")
        for _ in range(4):
            reader.float()
        fields = dict(weight=params.reshape(inputs, outputs))
    elif kind in ("relu_", "add_prev_"):
        fields = {}
    else:
        raise ValueError(f"unexpected layer type {kind!r}")
    for _ in range(3):
        reader.bool()  # setup done, gradient stale, output getters disabled
    for _ in range(3):
        reader.tensor()  # x_grad, cached_output, params_grad / grad_final: empty when saved clean
    if version == 3:
        reader.int()  # sample_expansion_factor
    return kind, fields


def _assign_weights(model: DlibResNet, layers):
    """Checks the layer sequence against anet_type and copies the weights into ``model``."""
    sequence = iter(layers)

    def take(kind, **expected):
        found, fields = next(sequence, (None, None))
        if found != kind:
            raise ValueError(f"expected layer {kind}, found {found}")
        for key, value in expected.items():
            if fields[key] != value:
                raise ValueError(f"{kind} has {key}={fields[key]}, expected {value}")
        return fields

    def conv_affine(conv: nn.Conv2d):
        con = take("con_4", stride=conv.stride, padding=conv.padding)
        aff = take("affine_")
        if con["weight"].shape != tuple(conv.weight.shape) or aff["gamma"].shape != (conv.out_channels,):
            raise ValueError(f"con_ weights {con['weight'].shape}, expected {tuple(conv.weight.shape)}")
        gamma, beta = aff["gamma"], aff["beta"]
        # affine(con(x)) = gamma*(W x + b) + beta: fold into one conv.
        conv.weight.copy_(torch.from_numpy(con["weight"] * gamma[:, None, None, None]))
        conv.bias.copy_(torch.from_numpy(con["bias"] * gamma + beta))

    with torch.no_grad():
        conv_affine(model.conv1)
        take("relu_")
        take("max_pool_2", rows=3, cols=3, stride_y=2, stride_x=2, pad_y=0, pad_x=0)
        for unit in model.layers:
            take("tag_or_skip")  # tag1
            conv_affine(unit.conv1)
            take("relu_")
            conv_affine(unit.conv2)
            if unit.downsample:
                take("tag_or_skip")  # tag2
                take("tag_or_skip")  # skip1
                take("avg_pool_2", rows=2, cols=2, stride_y=2, stride_x=2, pad_y=0, pad_x=0)
            take("add_prev_")
            take("relu_")
        take("avg_pool_2", rows=0, cols=0, stride_y=1, stride_x=1, pad_y=0, pad_x=0)
        fc = take("fc_2")["weight"]
        if fc.shape != tuple(model.fc.weight.shape[::-1]):
            raise ValueError(f"fc weights {fc.shape}, expected {tuple(model.fc.weight.shape[::-1])}")
        model.fc.weight.copy_(torch.from_numpy(fc.T.copy()))
        if next(sequence, None) is not None:
            raise ValueError("more layers than anet_type has")
