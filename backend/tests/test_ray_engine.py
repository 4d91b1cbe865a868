"""`faceexplore index --engine ray`: on a real two-node Ray cluster started on this machine, the
index is the one the local engine makes; a run interrupted half-way resumes; without Ray
installed the engine is refused with the command that installs it.

Needs Ray Data (requirements-ray.txt, which `make setup` installs): skipped without it, except in
CI, where it fails. The cluster: a head and a second node, one CPU each, on 127.0.0.1 with ports
of their own and a small object store, each a `ray start --block` process in a session of its
own. Teardown ends those processes and everything they started (Ray's workers and actors), by
process id: `ray stop` would end every Ray process of the user on the machine.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import helpers
import numpy as np
import pytest

from faceexplore import cli
from faceexplore.index.indexer import index_gallery
from faceexplore.settings import Settings

OBJECT_STORE_BYTES = 200 * 1024 * 1024
CLUSTER_START_SECONDS = 120
INDEX_TIMEOUT = 300


def _require_ray():
    """Skip without Ray Data, saying why; in CI (where make setup installs it) fail instead."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        import ray.data  # noqa: F401
    else:
        pytest.importorskip("ray.data", reason="Ray Data is not installed (pip install -r requirements-ray.txt)")


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _ray_command() -> str:
    beside = Path(sys.executable).with_name("ray")
    return str(beside) if beside.exists() else shutil.which("ray") or "ray"


def _node_options(ports) -> list[str]:
    names = (
        "--node-manager-port",
        "--object-manager-port",
        "--dashboard-agent-listen-port",
        "--dashboard-agent-grpc-port",
        "--metrics-export-port",
        "--runtime-env-agent-port",
    )
    return [f"{name}={port}" for name, port in zip(names, ports)]


def _start_node(args, log: Path, env) -> subprocess.Popen:
    with open(log, "w") as out:
        return subprocess.Popen(
            [_ray_command(), "start", "--block", *args], stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )


def _wait_started(proc: subprocess.Popen, log: Path):
    deadline = time.monotonic() + CLUSTER_START_SECONDS
    while "Ray runtime started" not in log.read_text():
        if proc.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"a Ray node did not start (exit status {proc.poll()}):\n{log.read_text()[-3000:]}")
        time.sleep(0.5)


def _stop_node(proc: subprocess.Popen):
    """End a `ray start --block` process and every process under it, by their ids."""
    import psutil  # installed with locust (requirements.txt)

    try:
        tree = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        tree = []
    for p in tree:
        try:
            p.send_signal(signal.SIGTERM)
        except psutil.NoSuchProcess:
            pass
    _, alive = psutil.wait_procs(tree, timeout=5)
    for p in alive:
        try:
            p.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(alive, timeout=10)
    proc.wait(timeout=10)


@pytest.fixture(scope="module")
def ray_cluster():
    """A two-node Ray cluster on 127.0.0.1 (one CPU a node), with token authentication; returns
    the head's address and the environment a driver needs (the token)."""
    _require_ray()
    temp = Path(tempfile.mkdtemp(prefix="fe-ray-"))  # short: Ray's socket paths live under it
    # The token explicitly, in every process's environment: left unset, Ray's mode depends on
    # whether ~/.ray/auth_token exists (a local ray.init() writes one), and nodes can disagree.
    auth = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32)}
    env = helpers.cli_env(RAY_TMPDIR=temp, OMP_NUM_THREADS=1, **auth)
    port, dashboard_port, *ports = _free_ports(14)
    address = f"127.0.0.1:{port}"
    common = ["--node-ip-address=127.0.0.1", "--num-cpus=1", f"--object-store-memory={OBJECT_STORE_BYTES}", "--disable-usage-stats"]
    nodes = []
    try:
        head_log = temp / "head.log"
        nodes.append(
            _start_node(
                [
                    "--head",
                    f"--port={port}",
                    "--include-dashboard=false",
                    f"--dashboard-port={dashboard_port}",
                    f"--temp-dir={temp}",
                    *common,
                    *_node_options(ports[:6]),
                ],
                head_log,
                env,
            )
        )
        _wait_started(nodes[0], head_log)
        worker_log = temp / "worker.log"
        nodes.append(_start_node([f"--address={address}", f"--temp-dir={temp}", *common, *_node_options(ports[6:])], worker_log, env))
        _wait_started(nodes[1], worker_log)
        yield address, auth
    finally:
        for node in reversed(nodes):
            _stop_node(node)
        shutil.rmtree(temp, ignore_errors=True)


@pytest.fixture(scope="module")
def small_bbt(bbt_dir, tmp_path_factory) -> Path:
    """BBT's five group photos (25 faces, some small) and two portraits of each person."""
    gallery = tmp_path_factory.mktemp("bbt-small")
    shutil.copytree(bbt_dir / "group", gallery / "group")
    for person in sorted((bbt_dir / "people").iterdir()):
        (gallery / "people" / person.name).mkdir(parents=True)
        for portrait in sorted(person.iterdir())[:2]:
            shutil.copy(portrait, gallery / "people" / person.name / portrait.name)
    return gallery


def _indexed_photos(index_path: Path) -> int:
    try:
        db = sqlite3.connect(f"file:{index_path}?mode=ro", uri=True, timeout=1)
        try:
            return db.execute("SELECT COUNT(*) FROM photos").fetchone()[0]
        finally:
            db.close()
    except sqlite3.Error:  # not created yet, or its tables not yet
        return 0


def _summary_numbers(stdout: str) -> dict:
    """The counts of `index`'s summary line: {"new": .., "processed": .., ...}."""
    line = next(line for line in stdout.splitlines() if "photos in the gallery" in line)
    return {word: int(n) for n, word in re.findall(r"(\d+) (new|changed|removed|unchanged|processed|faces|errors)\b", line)}


@pytest.mark.shared_data("bbt")
@pytest.mark.slow
def test_ray_engine_index_equals_local_and_resumes(ray_cluster, small_bbt, tmp_path, reuse_pipeline):
    address, auth = ray_cluster
    # the local engine's index, in this process (the session's models: one thread, as each actor)
    local_data = tmp_path / "local"
    local = index_gallery(Settings(data_dir=local_data, gallery_dir=small_bbt, index_workers=1), progress=False)
    assert local.errors == []

    # a run on the cluster, interrupted (Ctrl-C) once its first photos are committed
    ray_data = tmp_path / "ray"
    ray_index = ray_data / "index.sqlite3"
    command = helpers.cli_command("--data", ray_data, "index", small_bbt, "--engine", "ray", "--ray-address", address, "--quiet")
    with open(tmp_path / "interrupted.log", "w") as log:
        proc = subprocess.Popen(command, cwd=tmp_path, env=helpers.cli_env(**auth), stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + INDEX_TIMEOUT
            while _indexed_photos(ray_index) == 0 and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.2)
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    output = (tmp_path / "interrupted.log").read_text()
    assert proc.returncode == 130, output
    assert "interrupted; run the same command again to resume" in output
    committed = _indexed_photos(ray_index)
    photos = len(helpers.index_contents(local_data / "index.sqlite3"))
    assert 0 < committed < photos, f"{committed} of {photos} photos committed when interrupted:\n{output}"

    # the same command again: only what was not committed is analysed
    resumed = helpers.run_cli(*command[3:], cwd=tmp_path, timeout=INDEX_TIMEOUT, **auth)
    assert resumed.returncode == 0, resumed.stderr
    assert "on Ray at " + address in resumed.stderr
    numbers = _summary_numbers(resumed.stdout)
    assert (numbers["new"], numbers["unchanged"], numbers["processed"], numbers["errors"]) == (
        photos - committed,
        committed,
        photos - committed,
        0,
    )

    # the same photos, faces, boxes and embeddings as the local engine's
    expected = helpers.index_contents(local_data / "index.sqlite3")
    got = helpers.index_contents(ray_index)
    assert set(got) == set(expected)
    assert sum(len(faces) for _, faces in expected.values()) >= 20  # the group photos' faces
    for path, (status, faces) in expected.items():
        assert got[path][0] == status == "ok", path
        assert len(got[path][1]) == len(faces), path
        for (box, embedding), (ray_box, ray_embedding) in zip(faces, got[path][1]):
            np.testing.assert_allclose(ray_box, box, atol=0.5, err_msg=path)
            np.testing.assert_allclose(ray_embedding, embedding, atol=1e-4, err_msg=path)

    # and once more: nothing new, nothing analysed (the cluster is not even contacted)
    again = helpers.run_cli(*command[3:], cwd=tmp_path, timeout=INDEX_TIMEOUT, **auth)
    assert again.returncode == 0, again.stderr
    assert _summary_numbers(again.stdout)["processed"] == 0
    assert _summary_numbers(again.stdout)["unchanged"] == photos


def test_ray_engine_without_ray_says_how_to_install_it(tmp_path, monkeypatch, capsys):
    """Ray missing (its import fails): exit 2, one line naming requirements-ray.txt, nothing written."""
    gallery = tmp_path / "gallery"
    gallery.mkdir()
    helpers.face_image().save(gallery / "a.jpg")
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    monkeypatch.setitem(sys.modules, "ray.data", None)
    monkeypatch.delenv("FACEEXPLORE_ENGINE", raising=False)
    status = cli.main(["--data", str(tmp_path / "data"), "index", str(gallery), "--engine", "ray", "--quiet"])
    err = capsys.readouterr().err
    assert status == 2
    assert err.strip().splitlines()[-1].startswith("faceexplore: error: the ray engine needs Ray Data, which is not installed")
    assert err.strip().endswith("pip install -r requirements-ray.txt")
    assert not (tmp_path / "data" / "index.sqlite3").exists()


def test_ray_engine_with_no_cluster_at_the_address_says_so(tmp_path, capsys):
    """A head that does not answer: exit 2 at once, naming the address (ray.init would retry)."""
    _require_ray()
    gallery = tmp_path / "gallery"
    gallery.mkdir()
    helpers.face_image().save(gallery / "a.jpg")
    (port,) = _free_ports(1)  # nothing listens there
    address = f"127.0.0.1:{port}"
    status = cli.main(["--data", str(tmp_path / "data"), "index", str(gallery), "--engine", "ray", "--ray-address", address, "--quiet"])
    err = capsys.readouterr().err
    assert status == 2
    assert f"faceexplore: error: the Ray cluster at {address} does not answer" in err
    assert "is `ray start --head` running there" in err


def test_engine_settings_are_checked(tmp_path, capsys):
    data = tmp_path / "data"
    assert cli.main(["--data", str(data), "index", str(tmp_path), "--engine", "spark"]) == 2
    assert "engine = 'spark' from command-line option --engine" in capsys.readouterr().err
    assert cli.main(["--data", str(data), "index", str(tmp_path), "--engine", "ray", "--ray-address", "head node"]) == 2
    err = capsys.readouterr().err
    assert "ray_address = 'head node' from command-line option --ray-address" in err
    assert "empty, auto, HOST:PORT or ray://HOST:PORT" in err


@pytest.mark.parametrize("address", ["", "auto", "10.0.0.5:6379", "head.example.org:6379", "ray://head:10001", "[::1]:6379"])
def test_ray_addresses_accepted(address):
    assert Settings(engine="ray", ray_address=address).ray_address == address


def test_local_engine_needs_no_ray(small_gallery_two_photos, tmp_path, reuse_pipeline, monkeypatch):
    """The default engine works with Ray's import failing (it never imports it)."""
    monkeypatch.setitem(sys.modules, "ray", None)
    summary = index_gallery(Settings(data_dir=tmp_path / "data", gallery_dir=small_gallery_two_photos, index_workers=1), progress=False)
    assert (summary.processed, summary.faces, summary.errors) == (2, 1, [])


@pytest.fixture
def small_gallery_two_photos(tmp_path) -> Path:
    gallery = tmp_path / "gallery"
    gallery.mkdir()
    helpers.face_image().save(gallery / "face.jpg", quality=90)
    helpers.landscape(640, 480).save(gallery / "landscape.jpg")
    return gallery
