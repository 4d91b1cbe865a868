"""The `faceexplore` command line."""
from __future__ import annotations

import argparse
import json
import sys
import time

from .embedders import EMBEDDERS, ModelWeightsMissing
from .settings import load_settings
from .store import FaceIndex, ModelMismatch


def _settings(args, **extra):
    overrides = {
        "data_dir": args.data,
        "model": getattr(args, "model", None),
        "device": getattr(args, "device", None),
        "workers": getattr(args, "workers", None),
        **extra,
    }
    if getattr(args, "gallery", None):
        overrides["gallery_dir"] = args.gallery
    return load_settings(overrides)


def cmd_index(args) -> int:
    from .indexer import index_gallery

    settings = _settings(args)
    print(f"indexing {settings.gallery_dir} into {settings.index_path} (model {settings.model}, {settings.device})", file=sys.stderr)
    summary = index_gallery(settings, progress=not args.quiet)
    print(
        f"{summary.scanned} photos in the gallery: {summary.new} new, {summary.changed} changed, "
        f"{summary.removed} removed, {summary.unchanged} unchanged; {summary.processed} processed "
        f"in {summary.seconds:.1f} s ({summary.photos_per_second:.2f} photos/s), {summary.faces} faces, "
        f"{len(summary.errors)} errors"
    )
    for path, error in summary.errors[:20]:
        print(f"  error: {path}: {error}")
    if len(summary.errors) > 20:
        print(f"  ... and {len(summary.errors) - 20} more (faceexplore status --errors)")
    return 0


def cmd_status(args) -> int:
    settings = _settings(args)
    with FaceIndex(settings.index_path, readonly=True) as index:
        counts = index.counts()
        errors = [dict(r) for r in index.errors()] if args.errors else None
    if counts["last_indexed"]:
        counts["last_indexed"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(counts["last_indexed"]))
    if args.json:
        if errors is not None:
            counts["error_list"] = errors
        print(json.dumps(counts, indent=2))
    else:
        for key, value in counts.items():
            print(f"{key:>18}: {value}")
        for e in errors or []:
            print(f"  error: {e['path']}: {e['error']}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="faceexplore", description="Self-hosted face search for photo galleries.")
    parser.add_argument("--data", help="data folder holding the index and caches (FACEEXPLORE_DATA_DIR)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("index", help="index new and changed photos of a gallery, drop deleted ones")
    p.add_argument("gallery", nargs="?", help="gallery folder (default: image-serve-path/gallery-image)")
    p.add_argument("--model", choices=EMBEDDERS, help="face embedding model (default dlib)")
    p.add_argument("--device", help="cpu or cuda")
    p.add_argument("--workers", type=int, help="worker processes (default: one per core)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("status", help="counts of the index")
    p.add_argument("--json", action="store_true")
    p.add_argument("--errors", action="store_true", help="list the photos that could not be read")
    p.set_defaults(func=cmd_status)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args) or 0
    except (ModelWeightsMissing, ModelMismatch, FileNotFoundError, ValueError) as exc:
        print(f"faceexplore: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("faceexplore: interrupted; run the same command again to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
