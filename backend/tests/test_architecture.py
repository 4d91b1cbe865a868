"""The package's layers (pyproject.toml, [tool.importlinter]): imports run only downward, from the
entry points through web/, live/, search/, people/ and index/ to faces/ and settings, and the
web's features sit on its session and core rather than on each other. No module imports another
module's private names, and no modules import each other in a circle."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

BACKEND = Path(__file__).resolve().parents[1]
PACKAGE = BACKEND / "faceexplore"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    """import-linter's contracts over the faceexplore package under ``root``."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(BACKEND / "pyproject.toml")],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_import_contracts_are_kept():
    result = lint_imports(BACKEND)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_an_upward_import_breaks_a_contract(tmp_path):
    """The contracts catch what they are for: a copy of the package with the face pipeline
    importing the web, and the web's core importing a feature, fails both."""
    copy = tmp_path / "faceexplore"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    with open(copy / "faces" / "images.py", "a") as fh:
        fh.write("\nfrom faceexplore.web.core import state  # noqa\n")
    with open(copy / "web" / "core" / "errors.py", "a") as fh:
        fh.write("\nfrom faceexplore.web.gallery import links  # noqa\n")
    result = lint_imports(tmp_path)
    assert result.returncode != 0
    assert "2 broken" in result.stdout, result.stdout
    assert "faceexplore.faces.images -> faceexplore.web.core" in result.stdout, result.stdout
    assert "faceexplore.web.core.errors -> faceexplore.web.gallery.links" in result.stdout, result.stdout


def private_imports(package: Path) -> list[str]:
    """``from faceexplore.x import _name`` (or relative) anywhere in the package: a module's
    private names are its own."""
    found = []
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("faceexplore")):
                found += [f"{path.relative_to(package.parent)}:{node.lineno} {a.name}" for a in node.names if a.name.startswith("_")]
    return found


def test_no_module_imports_another_module_s_private_names(tmp_path):
    assert private_imports(PACKAGE) == []
    # and the check sees one
    (tmp_path / "faceexplore").mkdir()
    (tmp_path / "faceexplore" / "m.py").write_text("from .store import _ACTIVE\n")
    assert private_imports(tmp_path / "faceexplore") == ["faceexplore/m.py:1 _ACTIVE"]


# Strongly connected groups of modules (Tarjan) in grimp's graph of the package under a root:
# run in a subprocess so that the package found is the one under that root.
CYCLES_SCRIPT = """
import json, sys
import grimp
graph = grimp.build_graph("faceexplore")
adj = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in sorted(graph.modules)}
index, low, stack, on, groups = {}, {}, [], set(), []
sys.setrecursionlimit(10000)
def visit(v):
    index[v] = low[v] = len(index)
    stack.append(v); on.add(v)
    for w in adj[v]:
        if w not in index:
            visit(w); low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        group = []
        while True:
            w = stack.pop(); on.discard(w); group.append(w)
            if w == v: break
        if len(group) > 1: groups.append(sorted(group))
for m in adj:
    if m not in index: visit(m)
print(json.dumps(groups))
"""


def import_cycles(root: Path) -> list[list[str]]:
    """Groups of modules of the package under ``root`` that import each other in a circle,
    directly or not (also through a function-level import, which grimp sees)."""
    import json

    env = {**os.environ, "PYTHONPATH": str(root)}
    result = subprocess.run(
        [sys.executable, "-c", CYCLES_SCRIPT], cwd=root, env=env, capture_output=True, text=True, timeout=120, check=True
    )
    return json.loads(result.stdout)


def test_no_modules_import_each_other_in_a_circle(tmp_path):
    assert import_cycles(BACKEND) == []
    # and a circle is seen: the face pipeline imports the image decoding, which here imports it back
    copy = tmp_path / "faceexplore"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    with open(copy / "faces" / "images.py", "a") as fh:
        fh.write("\nfrom faceexplore.faces import pipeline  # noqa\n")
    assert ["faceexplore.faces.images", "faceexplore.faces.pipeline"] in import_cycles(tmp_path)
