#!/usr/bin/env python3
"""Search quality on an event gallery with one sample and with several samples per person.

make_event_gallery.py keeps one photo of each person back as their query and may paste all the
others into the gallery, so its galleries cannot say whether several samples help. This script
first sets ``--extra`` photos of every person who has enough aside (they are never pasted), builds
the gallery from the rest with make_event_gallery.py, puts the set-aside photos in
``queries/extra/<person>/``, then runs

    faceexplore evaluate event OUT/event --scratch OUT/data --samples K --rates 0.01 0.05 --json

which reports the one-sample scores of every query (and the false-alarm rate on absent people),
the nearest-face baseline at the same false-alarm rate, and, for the people with extra photos,
F1 with up to K samples against F1 with one sample for the same people.

Latest results, with the data and the machine: docs/quality.md, "Several samples".

usage:
  python backend/benchmarks/event_benchmark.py --people ../shared/datasets/lfw-dev --out /tmp/event-bench
  python backend/benchmarks/event_benchmark.py --photos 3000 --cast 500 --samples 3 --out /tmp/event-bench
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png"}


def split_people(people: Path, out: Path, extra: int) -> int:
    """Link every person's photos into out/people, except ``extra`` photos of each person who has
    at least ``extra + 2`` (one query and one for the gallery remain), linked into out/extra."""
    kept = 0
    for person in sorted(p for p in people.iterdir() if p.is_dir()):
        files = sorted(f for f in person.iterdir() if f.suffix.lower() in PHOTO_SUFFIXES)
        aside = files[-extra:] if extra and len(files) >= extra + 2 else []
        for f in files:
            target = out / ("extra" if f in aside else "people") / person.name / f.name
            target.parent.mkdir(parents=True, exist_ok=True)
            if not target.exists():
                target.symlink_to(f.resolve())
        kept += bool(aside)
    return kept


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--people", default=str(SHARED / "datasets" / "lfw-dev"), help="people folder (one sub-folder per person)")
    ap.add_argument("--tool", default=str(SHARED / "tools" / "make_event_gallery.py"), help="make_event_gallery.py")
    ap.add_argument("--out", default="/tmp/event-bench")
    ap.add_argument("--photos", type=int, default=3000)
    ap.add_argument("--cast", type=int, default=500, help="people who appear in the gallery")
    ap.add_argument("--extra", type=int, default=2, help="photos set aside per person as extra samples")
    ap.add_argument("--samples", type=int, default=3, help="samples per search in the several-samples run")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--rates", type=float, nargs="+", default=[0.01, 0.05], help="false-alarm rate settings to score")
    args = ap.parse_args()
    out = Path(args.out)
    event = out / "event"
    if not (event / "truth.json").exists():
        with_extra = split_people(Path(args.people), out, args.extra)
        print(f"{with_extra} people have {args.extra} photos set aside as extra samples", flush=True)
        subprocess.run(
            [
                sys.executable,
                args.tool,
                str(out / "people"),
                str(event),
                "--photos",
                str(args.photos),
                "--people",
                str(args.cast),
                "--seed",
                str(args.seed),
            ],
            check=True,
        )
        truth = json.loads((event / "truth.json").read_text())
        for person in set(truth["present"].values()):
            src = out / "extra" / person
            if src.is_dir():
                dst = event / "queries" / "extra" / person
                dst.mkdir(parents=True, exist_ok=True)
                for f in src.iterdir():
                    if not (dst / f.name).exists():
                        (dst / f.name).symlink_to(f.resolve())
    faceexplore = Path(sys.executable).with_name("faceexplore")
    cmd = [
        str(faceexplore),
        "evaluate",
        "event",
        str(event),
        "--scratch",
        str(out / "data"),
        "--samples",
        str(args.samples),
        "--rates",
        *map(str, args.rates),
        "--json",
    ]
    print("running:", " ".join(cmd), flush=True)
    result = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=True).stdout
    (out / "result.json").write_text(result)
    sys.path.insert(0, str(REPO / "backend"))
    from faceexplore.evaluation import format_result

    print(format_result(json.loads(result)))


if __name__ == "__main__":
    main()
