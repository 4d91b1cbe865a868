"""Pluggable face embedders, one module each; ``create_embedder`` picks one by name."""

from __future__ import annotations

from .base import FaceEmbedder, ModelWeightsMissing

EMBEDDERS = ("dlib", "facenet", "onnx")


def create_embedder(name: str = "dlib", **options) -> FaceEmbedder:
    if name == "dlib":
        from .dlib_resnet import DlibResNetEmbedder

        return DlibResNetEmbedder(**options)
    if name == "facenet":
        from .facenet import FacenetEmbedder

        return FacenetEmbedder(**options)
    if name == "onnx":
        from .onnx_model import OnnxEmbedder

        return OnnxEmbedder(**options)
    raise ValueError(f"unknown model {name!r}: choose one of {', '.join(EMBEDDERS)}")


__all__ = ["EMBEDDERS", "FaceEmbedder", "ModelWeightsMissing", "create_embedder"]
