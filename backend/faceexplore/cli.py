"""The `faceexplore` command line."""

from __future__ import annotations

import argparse
import errno
import json
import sqlite3
import sys
import time

from .embedders import EMBEDDERS, ModelWeightsMissing
from .locking import IndexBusy
from .settings import load_settings
from .store import FaceIndex, ModelMismatch

# The settings command-line options set: the argparse destination and the option, by setting.
OPTIONS = {
    "data_dir": ("data", "--data"),
    "gallery_dir": ("gallery", "GALLERY (argument)"),
    "model": ("model", "--model"),
    "device": ("device", "--device"),
    "index_workers": ("index_workers", "--workers"),
    "web_workers": ("web_workers", "--workers"),
    "false_alarm_rate": ("false_alarm_rate", "--false-alarm-rate"),
}


def _settings(args):
    """Settings with this command's options on top (an option not given overrides nothing)."""
    given = {name: getattr(args, dest, None) for name, (dest, _) in OPTIONS.items()}
    overrides = {name: value for name, value in given.items() if value not in (None, "")}
    origins = {name: f"command-line option {option}" for name, (_, option) in OPTIONS.items()}
    return load_settings(overrides, override_origins=origins)


def cmd_index(args) -> int:
    from .indexer import index_gallery

    settings = _settings(args)
    print(f"indexing {settings.gallery_dir} into {settings.index_path} (model {settings.model}, {settings.device})", file=sys.stderr)
    summary = index_gallery(settings, progress=not args.quiet, allow_removals=args.allow_removals, retry_errors=args.retry_errors)
    retried = f", {summary.retried} failed before and retried" if summary.retried else ""
    print(
        f"{summary.scanned} photos in the gallery: {summary.new} new, {summary.changed} changed, "
        f"{summary.removed} removed, {summary.unchanged} unchanged{retried}; {summary.processed} processed "
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


def cmd_cluster(args) -> int:
    from .clustering import cluster_index

    settings = _settings(args)
    with FaceIndex(settings.index_path) as index:
        details = cluster_index(index, threshold=args.threshold, use_prior=not args.no_prior)
    choice = details["threshold_choice"]
    print(f"{details['faces']} faces in {details['clusters']} clusters ({details['seconds']:.1f} s)")
    if args.explain:
        from .report import explain_threshold

        print(explain_threshold(details))
    elif choice:
        print(
            f"threshold {choice['threshold']:.3f} ({'expert override' if details['override'] else choice['method']}); `--explain` says why"
        )
    return 0


def cmd_report(args) -> int:
    from .report import cluster_report, format_report, save_plots

    settings = _settings(args)
    with FaceIndex(settings.index_path, readonly=True) as index:
        report = cluster_report(index)
    if args.plots:
        report["plots"] = save_plots(report, args.plots)
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    return 0


def cmd_search(args) -> int:
    from .search_service import SearchService

    settings = _settings(args)
    service = SearchService(settings)
    samples = []
    for i, path in enumerate(args.photos):
        with open(path, "rb") as fh:
            samples.append((path, fh.read(), args.face[i] if args.face and i < len(args.face) else None))
    result = service.search(samples, false_alarm_rate=settings.false_alarm_rate)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for s in result["samples"]:
            if s["error"]:
                print(f"{s['filename']}: {s['error']['message']}")
            else:
                print(f"{s['filename']}: {len(s['faces'])} face(s), using face {s['used_face']}")
        print(result["message"], f"(confidence {result['confidence']:.2f}; {result['rule']['text']})")
        for p in result["photos"]:
            print(f"  {p['confidence']:.2f}  {p['path']}")
    return 0 if result["found"] else 1


def cmd_evaluate(args) -> int:
    from . import evaluation

    settings = _settings(args)
    if args.kind == "people":
        result = evaluation.evaluate_people(args.folder, settings, scratch=args.scratch, limit_people=args.limit)
    else:
        result = evaluation.evaluate_event(args.folder, settings, scratch=args.scratch, samples=args.samples, rates=args.rates or ())
    print(json.dumps(result, indent=2) if args.json else evaluation.format_result(result))
    return 0


def cmd_serve(args) -> int:
    from .web.server import run_server

    settings = _settings(args)
    run_server(settings, host=args.host, port=args.port)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="faceexplore", description="Self-hosted face search for photo galleries.")
    parser.add_argument("--data", help="data folder holding the index and caches (FACEEXPLORE_DATA_DIR)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("index", help="index new and changed photos of a gallery, drop deleted ones")
    p.add_argument("gallery", nargs="?", help="gallery folder (default: image-serve-path/gallery-image)")
    p.add_argument("--model", choices=EMBEDDERS, help="face embedding model (default dlib)")
    p.add_argument("--device", help="cpu, cuda or cuda:N (default cpu)")
    p.add_argument("--workers", dest="index_workers", type=int, help="worker processes (default: one per core; settings key index_workers)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument(
        "--allow-removals",
        action="store_true",
        help="drop the photos gone from the gallery even when they are more than half of the index (or all of it)",
    )
    p.add_argument(
        "--retry-errors", action="store_true", help="read again the photos that could not be read before, even if their file did not change"
    )
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("status", help="counts of the index")
    p.add_argument("--json", action="store_true")
    p.add_argument("--errors", action="store_true", help="list the photos that could not be read")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("cluster", help="group the faces by person (threshold derived from the gallery)")
    p.add_argument("--explain", action="store_true", help="print the threshold, the evidence and expected error rates")
    p.add_argument("--threshold", type=float, help="expert override of the derived distance threshold")
    p.add_argument("--no-prior", action="store_true", help="learn the thresholds from the gallery alone, without the model's prior")
    p.set_defaults(func=cmd_cluster)

    p = sub.add_parser("report", help="label-free quality of the clustering")
    p.add_argument("--json", action="store_true")
    p.add_argument("--plots", metavar="DIR", help="write PNG plots (distance distributions, cluster sizes) into DIR")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("search", help="find a person's photos from sample photos of them")
    p.add_argument("photos", nargs="+", metavar="PHOTO")
    p.add_argument("--face", type=int, action="append", help="face index to use in each sample, in order (default: the largest)")
    p.add_argument("--false-alarm-rate", type=float, help="accepted chance of 'found' for a stranger, between 0 and 1 (default 0.01)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("evaluate", help="measure quality on labelled data")
    p.add_argument("kind", choices=["people", "event"])
    p.add_argument("folder", help="people folder (one sub-folder per person) or event gallery (with truth.json)")
    p.add_argument("--scratch", help="data folder for the scratch index (default: a temporary folder); reused if it exists")
    p.add_argument("--limit", type=int, help="people: use only the first N people")
    p.add_argument(
        "--samples",
        type=int,
        default=1,
        help="event: sample photos per present query (needs queries/extra/, see benchmarks/event_benchmark.py)",
    )
    p.add_argument(
        "--rates", type=float, nargs="+", metavar="RATE", help="event: also score the searches at these false-alarm rate settings"
    )
    p.add_argument("--model", choices=EMBEDDERS)
    p.add_argument("--workers", dest="index_workers", type=int, help="indexing processes (settings key index_workers)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("serve", help="serve the web API (and the built frontend) with gunicorn")
    p.add_argument("gallery", nargs="?", help="gallery folder")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", dest="web_workers", type=int, help="gunicorn workers (default: sized to the machine; settings web_workers)")
    p.set_defaults(func=cmd_serve)
    return parser


EXIT_BUSY = 75  # EX_TEMPFAIL: another process is writing to the index; try again later


def _disk_full(exc: BaseException) -> bool:
    """SQLite's "database or disk is full" (SQLITE_FULL), or ENOSPC / EDQUOT from the system."""
    if isinstance(exc, sqlite3.OperationalError):
        return getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL or "is full" in str(exc)
    return getattr(exc, "errno", None) in (errno.ENOSPC, errno.EDQUOT)


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args) or 0
    except (ModelWeightsMissing, ModelMismatch, FileNotFoundError, ValueError) as exc:
        print(f"faceexplore: error: {exc}", file=sys.stderr)
        return 2
    except IndexBusy as exc:
        print(f"faceexplore: error: {exc}", file=sys.stderr)
        return EXIT_BUSY
    except (sqlite3.OperationalError, OSError) as exc:
        if not _disk_full(exc):
            raise
        print(
            f"faceexplore: error: the disk is full ({exc}). What was committed before is intact: free some "
            f"space on the disk of the data folder and run the same command again to carry on.",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        print("faceexplore: interrupted; run the same command again to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
