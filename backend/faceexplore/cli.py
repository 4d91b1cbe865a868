"""The `faceexplore` command line."""

from __future__ import annotations

import argparse
import errno
import json
import signal
import sqlite3
import subprocess
import sys
import time

from faceexplore.faces.embedders import EMBEDDERS, ModelWeightsMissing
from faceexplore.index import retention
from faceexplore.index.locking import IndexBusy
from faceexplore.index.store import FaceIndex, ModelMismatch, PeopleChanged
from faceexplore.site import access_code, audit, removals

from .settings import load_settings

# The settings command-line options set: the argparse destination and the option, by setting.
OPTIONS = {
    "data_dir": ("data", "--data"),
    "gallery_dir": ("gallery", "GALLERY (argument)"),
    "model": ("model", "--model"),
    "device": ("device", "--device"),
    "index_workers": ("index_workers", "--workers"),
    "engine": ("engine", "--engine"),
    "ray_address": ("ray_address", "--ray-address"),
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
    from faceexplore.index.indexer import index_gallery

    settings = _settings(args)
    access_code.mode(settings)  # a new data folder gets its access code before its index makes it look old
    retention.refuse_if_purged(settings)  # indexing again would store faces after the purge
    engine = f", on Ray at {settings.ray_address or 'RAY_ADDRESS or this machine'}" if settings.engine == "ray" else ""
    print(
        f"indexing {settings.gallery_dir} into {settings.index_path} (model {settings.model}, {settings.device}{engine})", file=sys.stderr
    )
    summary = index_gallery(settings, progress=not args.quiet, allow_removals=args.allow_removals, retry_errors=args.retry_errors)
    retention.started(settings)  # the retention clock starts at the data folder's first index
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
        errors = [{"path": path, "error": message} for path, message in index.errors()] if args.errors else None
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
    from faceexplore.people.clustering import cluster_index

    settings = _settings(args)
    with FaceIndex(settings.index_path) as index:
        details = cluster_index(index, threshold=args.threshold, use_prior=not args.no_prior)
    choice = details["threshold_choice"]
    print(f"{details['faces']} faces in {details['clusters']} clusters ({details['seconds']:.1f} s)")
    kept = details.get("organiser")
    if kept and any(kept.values()):
        print(
            f"the organiser's corrections kept: {kept['pinned_faces']} faces pinned to {kept['people']} people, "
            f"{kept['cannot_links']} pairs kept apart, {kept['rejected_faces']} faces left out as not faces"
        )
    if args.explain:
        from faceexplore.people.report import explain_threshold

        print(explain_threshold(details))
    elif choice:
        print(
            f"threshold {choice['threshold']:.3f} ({'expert override' if details['override'] else choice['method']}); `--explain` says why"
        )
    return 0


def cmd_report(args) -> int:
    from faceexplore.people.report import cluster_report, format_report, save_plots

    settings = _settings(args)
    with FaceIndex(settings.index_path, readonly=True) as index:
        report = cluster_report(index)
    if args.plots:
        report["plots"] = save_plots(report, args.plots)
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    return 0


def _person_line(p) -> str:
    flags = f"  [{', '.join(p.flags)}]" if p.flags else ""
    hidden = "  (hidden)" if p.hidden else ""
    return f"{p.id:>7}  {p.face_count:>5} faces  {p.photo_count:>5} photos  {p.name or '-'}{hidden}{flags}"


def cmd_people(args) -> int:
    """The organiser's corrections: each prints the person (or count) it leaves."""
    from dataclasses import asdict

    from faceexplore.people.corrections import CorrectionError, PeopleEditor

    settings = _settings(args)
    with FaceIndex(settings.index_path, readonly=args.action in ("list", "show", "log", "export")) as index:
        if not index.has_people_tables():
            raise ValueError("this index was made by an older version: run `faceexplore cluster` once to add the people to it")
        editor = PeopleEditor(index)
        try:
            if args.action == "list":
                people = editor.list(args.query)
                if args.json:
                    print(json.dumps([asdict(p) for p in people], indent=2))
                else:
                    print(f"{'id':>7}  {'faces':>11}  {'photos':>12}  name")
                    for p in people:
                        print(_person_line(p))
                return 0
            if args.action == "show":
                person = editor.get(args.person)
                print(_person_line(person))
                paths = index.all_photo_paths()
                for face in index.person_faces(person.id, limit=-1, offset=0).items:
                    box = ", ".join(f"{v:.0f}" for v in face.box)
                    print(f"  face {face.id:>7}  {paths.get(face.photo_id, '?')}  [{box}]")
                return 0
            if args.action == "export":
                faces = _people_export(index)
                if args.json:
                    print(json.dumps(faces, indent=2, ensure_ascii=False))
                else:
                    for f in faces:
                        print(f"{f['face']}\t{f['person'] if f['person'] is not None else '-'}\t{f['path']}\t{_box_text(f['box'])}")
                return 0
            if args.action == "log":
                for c in editor.log():
                    at = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(c.at))
                    undone = f"  (undone{f' with {c.undone_with}' if c.undone_with else ''})" if c.undone else ""
                    print(f"{c.id:>5}  {at}  {c.who or '-':<28}  {c.kind:<7} {c.description}{undone}")
                _print_removals(settings)
                return 0
            if args.action == "undo":
                result = editor.undo(args.correction)
                print(f"undone: {result.correction.description}")
                for c in result.also:
                    print(f"also undone (it depended on it): {c.id}  {c.description}")
                return 0
            if args.action == "reject":
                print(f"{editor.reject_faces(args.faces)} face(s) marked as not a face")
                return 0
            if args.action == "name":
                person = editor.rename(args.person, args.name)
            elif args.action in ("hide", "unhide"):
                person = editor.set_hidden(args.person, args.action == "hide")
            elif args.action == "merge":
                person = editor.merge(args.into, args.people)
            else:  # move
                person = editor.move_faces(args.faces, None if args.to == "new" else int(args.to))
        except CorrectionError as exc:
            print(f"faceexplore: error: {exc.message}", file=sys.stderr)
            return 2
        finally:
            audit.record_corrections(settings.data_dir, editor.recorded, "cli")
    print(_person_line(person))
    return 0


def _print_removals(settings) -> None:
    """Visitors' removals, newest first, marked as such (their ids are `faceexplore removals`' ids,
    not correction ids: `people undo` does not take them)."""
    for r in removals.listing(settings.data_dir):
        at = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(r.created))
        print(f"R{r.id:>4}  {at}  removal {r.description}  ({r.status.replace('_', ' ')}; faceexplore removals undo {r.id})")


def cmd_removals(args) -> int:
    """Visitors' "Remove me" requests: list them, undo one (a mistake), confirm or refuse one."""
    settings = _settings(args)
    if args.action == "list":
        for r in removals.listing(settings.data_dir):
            at = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(r.created))
            print(f"{r.id:>5}  {at}  {r.status:<14} {r.description}")
        return 0
    try:
        r = removals.change(settings.data_dir, args.removal, args.action, "cli")
    except removals.RemovalError as exc:
        print(f"faceexplore: error: {exc.message}", file=sys.stderr)
        return 2
    print(f"removal {r.id}: {r.status.replace('_', ' ')}")
    return 0


def cmd_purge(args) -> int:
    """Retention: erase the biometric data once `retention_days` have passed (``--now``: at once)."""
    settings = _settings(args)
    done = retention.purged(settings.data_dir)
    if done is not None:
        print(f"already purged on {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(done['at']))}: the search is closed")
        return 0
    if not args.now:
        due = retention.due_at(settings)
        if due is None:
            why = "no retention is set (setting retention_days)" if settings.retention_days is None else "nothing was indexed yet"
            print(f"nothing to purge: {why}; `faceexplore purge --now` erases at once")
            return 0
        if time.time() < due:
            print(f"nothing to purge yet: the retention ends on {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(due))}")
            return 0
    report = retention.purge(settings, "cli")
    print("purged:")
    for line in report.lines():
        print(f"  {line}")
    return 0


def _box_text(box) -> str:
    return "[" + ", ".join(f"{v:.0f}" for v in box) + "]"


def _face_places(index, face_ids) -> dict[int, dict]:
    """face id -> {"face", "path" (relative to the gallery), "box" [x1, y1, x2, y2] in pixels}."""
    paths = index.all_photo_paths()
    infos = index.face_infos(face_ids)
    return {f.id: {"face": f.id, "path": paths.get(f.photo_id, "?"), "box": [round(v, 1) for v in f.box]} for f in infos}


def _people_export(index) -> list[dict]:
    """Every face of the index (rejected ones left out) with its person in the active clustering
    (null: none yet), by face id."""
    members = index.active_memberships()
    rejected = index.rejected_faces() if index.has_people_tables() else set()
    ids = [int(f) for f in index.embeddings()[0].tolist() if int(f) not in rejected]
    places = _face_places(index, ids)
    return [{**places[f], "person": members.get(f)} for f in ids if f in places]


def cmd_review(args) -> int:
    """The review queue (people/review.py): list it, or answer one question."""
    from faceexplore.people.corrections import CorrectionError, PeopleEditor
    from faceexplore.people.review import answer_question, review_queue, worth_answering

    settings = _settings(args)
    answering = args.action == "answer"
    with FaceIndex(settings.index_path, readonly=not answering) as index:
        if not index.has_people_tables():
            raise ValueError("this index was made by an older version: run `faceexplore cluster` once to add the people to it")
        if answering:
            editor = PeopleEditor(index)
            try:
                found = answer_question(editor, args.id, args.answer)
            except CorrectionError as exc:
                print(f"faceexplore: error: {exc.message}", file=sys.stderr)
                return 2
            finally:
                audit.record_corrections(settings.data_dir, editor.recorded, "cli")
            print(f"{found.kind} {found.id}: {args.answer}; {worth_answering(review_queue(index))} question(s) worth answering left")
            return 0
        queue = review_queue(index)
        shown = queue[: args.limit]
        places = _face_places(index, [f for q in shown for f in (*q.faces, *q.other_faces)])
        out = []
        for q in shown:
            item = q.as_dict()
            if q.kind == "same_person":
                for side in ("a", "b"):
                    item[side]["faces"] = [places[f] for f in item[side]["faces"]]
            else:
                item["face"] = places[item["face"]]
                if q.kind == "face_belongs":
                    item["person_faces"] = [places[f] for f in item["person_faces"]]
            out.append(item)
        if args.json:
            listing = {"questions": out, "total": len(queue), "worth_answering": worth_answering(queue)}
            print(json.dumps(listing, indent=2, ensure_ascii=False))
            return 0
        print(f"{len(queue)} question(s), {worth_answering(queue)} worth answering")
        asks = {"same_person": "Same person?", "face_belongs": "Is this face one of them?", "not_a_face": "Not a face?"}
        for item in out:
            print(f"{item['id']}  {asks[item['kind']]}  (expected change {item['score']:.2f} faces)")
            if item["kind"] == "same_person":
                for side in ("a", "b"):
                    print(f"  {side}: person {item[side]['person']}")
                    for f in item[side]["faces"]:
                        print(f"     face {f['face']:>7}  {f['path']}  {_box_text(f['box'])}")
            else:
                f = item["face"]
                whose = f"  (person {item['person']})" if item["kind"] == "face_belongs" else ""
                print(f"  face {f['face']:>7}  {f['path']}  {_box_text(f['box'])}{whose}")
        return 0


def _person_target(value: str) -> str:
    if value != "new" and not value.isdigit():
        raise argparse.ArgumentTypeError("give a person id or 'new'")
    return value


def cmd_search(args) -> int:
    from faceexplore.search.service import SearchService

    settings = _settings(args)
    service = SearchService(settings)
    samples = []
    for i, path in enumerate(args.photos):
        with open(path, "rb") as fh:
            samples.append((path, fh.read(), args.face[i] if args.face and i < len(args.face) else None))
    result = service.search(samples, false_alarm_rate=settings.false_alarm_rate).to_dict()
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
        result = evaluation.evaluate_event(
            args.folder,
            settings,
            scratch=args.scratch,
            samples=args.samples,
            rates=args.rates or (),
            candidate_rates=args.candidate_rates or (),
        )
    print(json.dumps(result, indent=2) if args.json else evaluation.format_result(result))
    return 0


def cmd_watch(args) -> int:
    import logging
    import signal

    from .live.service import LiveIndexer

    logging.basicConfig(level=logging.INFO, format="faceexplore watch: %(message)s")
    settings = _settings(args)
    access_code.mode(settings)  # as for index
    service = LiveIndexer(settings, allow_removals=args.allow_removals)

    def on_signal(signum, frame):
        if service.in_catch_up:  # the indexer's pool: end it as `index` ends (committed work is kept)
            raise KeyboardInterrupt
        service.stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    print(f"watching {settings.gallery_dir} for {settings.index_path} (model {settings.model}); Ctrl-C stops", file=sys.stderr)
    service.run()
    print("faceexplore watch: stopped", file=sys.stderr)
    return 0


def start_watcher(settings) -> subprocess.Popen:
    """`faceexplore watch` as a child process (serve --watch), ended with its parent: asked to
    stop when the server stops, and sent SIGTERM by the kernel if the parent dies (Linux)."""

    def end_with_parent():
        try:
            import ctypes

            ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        except Exception:  # not Linux: the server's finally still stops it
            pass

    command = [sys.executable, "-m", "faceexplore", "--data", str(settings.data_dir), "watch", str(settings.gallery_dir)]
    return subprocess.Popen(command, preexec_fn=end_with_parent)


def stop_watcher(process: subprocess.Popen, timeout: float = 30) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def cmd_serve(args) -> int:
    from .web.server import run_server

    settings = _settings(args)
    watcher = start_watcher(settings) if args.watch else None
    try:
        run_server(settings, host=args.host, port=args.port)
    finally:
        if watcher is not None:
            stop_watcher(watcher)
    return 0


def read_new_password(stdin=None) -> str:
    """The new password: typed twice without echo at a terminal, else one line of standard input."""
    stdin = stdin or sys.stdin
    if stdin.isatty():
        import getpass

        first = getpass.getpass("New organiser password: ")
        if getpass.getpass("Repeat it: ") != first:
            raise ValueError("the two passwords differ; nothing was changed")
        return first
    return stdin.readline().rstrip("\r\n")


def cmd_set_password(args) -> int:
    from faceexplore.web.session import auth

    settings = _settings(args)
    try:
        auth.set_password(settings.data_dir, read_new_password())
    except auth.PasswordError as exc:
        raise ValueError(f"{exc}; nothing was changed") from None
    print(
        f"The organiser password is set (its hash is in {auth.password_path(settings.data_dir)}). "
        "Sessions logged in with an earlier password have ended."
    )
    return 0


def cmd_access_code(args) -> int:
    settings = _settings(args)
    base = args.url or "http://localhost:8765/"
    if args.link:  # the address to open: with the code when visitors are asked for it (make run prints it)
        mode = access_code.mode(settings)
        print(access_code.site_link(base, access_code.read(settings.data_dir)) if mode == "code" else base)
        return 0
    code = access_code.rotate(settings.data_dir, "cli") if args.new else access_code.ensure(settings.data_dir)
    mode = access_code.mode(settings)
    print(f"access code: {code.code}{' (new: browsers let in with the old code must enter this one)' if args.new else ''}")
    print(f"link: {access_code.site_link(base, code)}")
    if mode == "open":
        print('search_access is "open": visitors are not asked for the code (set search_access = "code" to ask)', file=sys.stderr)
    return 0


def cmd_audit(args) -> int:
    settings = _settings(args)
    entries = audit.entries(settings.data_dir)
    if args.json:
        print(json.dumps(entries, indent=2, ensure_ascii=False))
        return 0
    for e in entries:
        print(f"{e['at']}  {e['origin']:<22} {e['action']:<20} {json.dumps(e['detail'], ensure_ascii=False)}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="faceexplore", description="Self-hosted face search for photo galleries.")
    parser.add_argument("--data", help="data folder holding the index and caches (FACEEXPLORE_DATA_DIR)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("index", help="index new and changed photos of a gallery, drop deleted ones")
    p.add_argument("gallery", nargs="?", help="gallery folder (default: image-serve-path/gallery-image)")
    p.add_argument("--model", choices=EMBEDDERS, help="face embedding model (default dlib)")
    p.add_argument("--device", help="cpu, cuda or cuda:N (default cpu)")
    p.add_argument(
        "--workers", dest="index_workers", type=int, help="worker processes or Ray actors (default: one per core; settings index_workers)"
    )
    p.add_argument("--engine", help="where photos are analysed: local (this machine, default) or ray (a Ray cluster)")
    p.add_argument("--ray-address", help="with --engine ray: the head, HOST:PORT (default: RAY_ADDRESS, else Ray on this machine)")
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

    p = sub.add_parser("people", help="the organiser's corrections: name, merge, split, hide people (kept by `cluster`)")
    actions = p.add_subparsers(dest="action", required=True)
    a = actions.add_parser("list", help="the people, most faces first, with names and flags")
    a.add_argument("--query", help="only people whose name holds this (any case)")
    a.add_argument("--json", action="store_true")
    a = actions.add_parser("show", help="a person and their faces (the face ids move and reject take)")
    a.add_argument("person", type=int, metavar="ID")
    a = actions.add_parser("name", help="name a person (an empty NAME clears it)")
    a.add_argument("person", type=int, metavar="ID")
    a.add_argument("name", metavar="NAME")
    a = actions.add_parser("merge", help="merge people into one (they are one person)")
    a.add_argument("into", type=int, metavar="INTO")
    a.add_argument("people", type=int, nargs="+", metavar="ID")
    a = actions.add_parser("move", help="move faces to another person or a new one (split a person)")
    a.add_argument("faces", type=int, nargs="+", metavar="FACE")
    a.add_argument("--to", required=True, type=_person_target, metavar="ID|new")
    a = actions.add_parser("reject", help="mark faces as not a face: they leave every person and search")
    a.add_argument("faces", type=int, nargs="+", metavar="FACE")
    for action, what in (("hide", "hide a person from visitors (search answers as if absent)"), ("unhide", "show a hidden person again")):
        a = actions.add_parser(action, help=what)
        a.add_argument("person", type=int, metavar="ID")
    a = actions.add_parser("undo", help="undo a correction (ID from `log`; the last without) and the later ones depending on it")
    a.add_argument("correction", type=int, nargs="?", metavar="ID")
    actions.add_parser("log", help="the corrections, newest first: id, when, who, what, undone")
    a = actions.add_parser("export", help="every face with its photo (relative path), box and person id")
    a.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_people)

    p = sub.add_parser("removals", help='visitors\' "Remove me" requests: list, undo (a mistake), confirm or refuse (review)')
    actions = p.add_subparsers(dest="action", required=True)
    actions.add_parser("list", help="the removals, newest first")
    for action, what in (
        ("undo", "undo a removal: the visitor is shown again"),
        ("confirm", "confirm a removal waiting for review (setting removal = review)"),
        ("refuse", "refuse a removal waiting for review: the person is shown again"),
    ):
        a = actions.add_parser(action, help=what)
        a.add_argument("removal", type=int, metavar="ID")
    p.set_defaults(func=cmd_removals)

    p = sub.add_parser("purge", help="erase the faces' embeddings, face crops, names and saved searches once retention_days have passed")
    p.add_argument("--now", action="store_true", help="erase at once, whatever the retention")
    p.set_defaults(func=cmd_purge)

    p = sub.add_parser("review", help="the review queue: questions whose answers improve the people most, best first")
    p.add_argument("--limit", type=int, default=20, help="questions listed (default 20)")
    p.add_argument("--json", action="store_true")
    actions = p.add_subparsers(dest="action")
    a = actions.add_parser("answer", help="answer a question: yes, no or skip")
    a.add_argument("id", metavar="ID")
    a.add_argument("answer", choices=("yes", "no", "skip"))
    p.set_defaults(func=cmd_review)

    p = sub.add_parser("search", help="find a person's photos from sample photos of them")
    p.add_argument("photos", nargs="+", metavar="PHOTO")
    p.add_argument("--face", type=int, action="append", help="face index to use in each sample, in order (default: the largest)")
    p.add_argument("--false-alarm-rate", type=float, help="accepted chance of 'found' for a stranger, between 0 and 1 (default 0.01)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("evaluate", help="measure quality on labelled data")
    p.add_argument("kind", choices=["people", "event"])
    p.add_argument("folder", help="people folder (one sub-folder per person) or event gallery (with truth.json)")
    p.add_argument(
        "--scratch", help="data folder for the scratch index, kept, reused if it exists (default: a temporary folder, removed at the end)"
    )
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
    p.add_argument(
        "--candidate-rates",
        type=float,
        nargs="+",
        metavar="RATE",
        help='event: also score "Is one of these you?" at these candidate_rate settings (at the configured false-alarm rate)',
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
    p.add_argument("--watch", action="store_true", help="also run `faceexplore watch` beside the server (stopped with it)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("watch", help="index photos as they arrive in the gallery folder, until stopped (the live gallery)")
    p.add_argument("gallery", nargs="?", help="gallery folder (default: image-serve-path/gallery-image)")
    p.add_argument("--model", choices=EMBEDDERS, help="face embedding model (default dlib)")
    p.add_argument("--device", help="cpu, cuda or cuda:N (default cpu)")
    p.add_argument("--workers", dest="index_workers", type=int, help="processes for a large backlog at start (index_workers)")
    p.add_argument(
        "--allow-removals",
        action="store_true",
        help="drop photos gone from the gallery even when they are more than half of the index (or all of it)",
    )
    p.set_defaults(func=cmd_watch)

    p = sub.add_parser(
        "set-password",
        help="set the organiser's password (one line of standard input, or typed twice at a terminal)",
    )
    p.set_defaults(func=cmd_set_password)

    p = sub.add_parser(
        "access-code",
        help="show the event's access code and the link that carries it (made if there is none), or --new to rotate it",
    )
    p.add_argument("--new", action="store_true", help="a new code: browsers let in with the old one must enter the new one")
    p.add_argument("--url", help="the site's address, for the link (default http://localhost:8765/)")
    p.add_argument("--link", action="store_true", help="print only the address visitors open: with the code when it is asked for")
    p.set_defaults(func=cmd_access_code)

    p = sub.add_parser("audit", help="the audit log: the organiser's corrections, code rotations, removals and purges")
    p.add_argument("--json", action="store_true", help="export it as JSON")
    p.set_defaults(func=cmd_audit)
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
    except PeopleChanged as exc:
        print(f"faceexplore: error: {exc} (several times over); run it again", file=sys.stderr)
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
