#!/usr/bin/env python3
"""What one search's samples cost a worker before any face is compared: seconds and peak memory
of analysing them (decode, detect, embed: ``SearchService.analyse_samples``, as POST /api/search
runs it), for hostile samples: by default 4 blank 7000x7000 PNGs (571 KB in all), the issue-22
case. Each case runs in a fresh process; the models are loaded first and not counted.

    python backend/benchmarks/sample_decode_cost.py [--side 7000] [--count 4] [--format PNG]

Prints the answer (refused with its code, or the faces found), the seconds, and the process's peak
RSS (ru_maxrss) over its RSS with the models loaded.
"""

from __future__ import annotations

import argparse
import io
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--side", type=int, default=7000)
    p.add_argument("--count", type=int, default=4)
    p.add_argument("--format", default="PNG")
    args = p.parse_args(argv)

    from PIL import Image

    from faceexplore.faces.pipeline import FacePipeline
    from faceexplore.search.service import SearchInputError, SearchService
    from faceexplore.settings import load_settings

    buf = io.BytesIO()
    Image.new("RGB", (args.side, args.side), (255, 255, 255)).save(buf, args.format)
    data = buf.getvalue()
    samples = [(f"blank{i}.{args.format.lower()}", data, None) for i in range(args.count)]
    settings = load_settings()
    service = object.__new__(SearchService)  # no index needed: the samples are analysed first
    service.settings, service.pipeline = settings, FacePipeline.from_settings(settings)
    baseline = rss_mb()
    t0 = time.perf_counter()
    try:
        reports, chosen = service.analyse_samples(samples)
        answer = f"analysed: {sum(len(r.faces) for r in reports)} face(s), " + ", ".join(r.error.code for r in reports if r.error)
    except SearchInputError as exc:
        answer = f"refused {exc.status} {exc.code}: {exc.message}"
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{args.count} x {args.side}x{args.side} {args.format} ({len(data) * args.count / 1000:.0f} KB in all)")
    print(answer)
    print(f"{seconds:.2f} s; peak RSS {peak:.0f} MB ({peak - baseline:+.0f} MB over {baseline:.0f} MB with the models loaded)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
