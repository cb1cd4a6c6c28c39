"""The package's layout: no import cycles among its modules, and nothing of the installed
package imports the benchmarks or the tests.

The imports are read from the source with ast, not by importing it. A cycle that matters is
one of module-level imports (those that run while a module loads, in `if`/`try` blocks
included): A importing B while B, half loaded, imports A is how a name goes missing at
import time. Imports inside functions run once every module has loaded, the usual way to
defer an optional or heavy dependency, and `if TYPE_CHECKING:` imports never run: neither
can see a half-loaded module, so neither is an edge of the graph. Importing a submodule
loads its package first, but a package mid-load is no cycle for its submodules (they reach
it by name only when they import a name from it, `from . import name`, which is an edge).
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import lrtiers

PACKAGE_DIR = Path(lrtiers.__file__).resolve().parent
ROOT = Path(__file__).resolve().parents[2]


def module_files(package_dir: Path) -> dict[str, Path]:
    """Dotted module name -> source file, for every module of the package."""
    root = package_dir.parent
    out = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.Module, module_level: bool) -> list[ast.Import | ast.ImportFrom]:
    """The import statements of a module: those that run while it loads (module_level), or
    all of them."""
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                found.append(child)
            elif module_level and isinstance(
                child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
            ):
                continue
            elif module_level and isinstance(child, ast.If) and _is_type_checking(child.test):
                for stmt in child.orelse:
                    visit(ast.Module(body=[stmt], type_ignores=[]))
            else:
                visit(child)

    visit(tree)
    return found


def _absolute(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    if not is_package:
        base.pop()
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imported_modules(
    module: str, path: Path, modules: set[str], module_level: bool = True
) -> set[str]:
    """The modules of `modules` that `module` (at `path`) imports."""
    tree = ast.parse(path.read_text(), filename=str(path))
    out = set()
    for node in _imports(tree, module_level):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
            continue
        source = _absolute(module, path.name == "__init__.py", node)
        for alias in node.names:
            sub = f"{source}.{alias.name}"
            # `from pkg import sub` loads the submodule; `from pkg import name` reads pkg
            out.add(sub if sub in modules else source)
    return out & modules


def import_graph(package_dir: Path, module_level: bool = True) -> dict[str, set[str]]:
    files = module_files(package_dir)
    return {
        name: imported_modules(name, path, set(files), module_level) - {name}
        for name, path in files.items()
    }


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle of the graph as [a, b, ..., a], or None (depth-first, colouring nodes)."""
    done: set[str] = set()
    path: list[str] = []
    on_path: set[str] = set()

    def visit(node: str) -> list[str] | None:
        path.append(node)
        on_path.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt in on_path:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in done:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        path.pop()
        on_path.discard(node)
        done.add(node)
        return None

    for start in sorted(graph):
        if start not in done:
            cycle = visit(start)
            if cycle:
                return cycle
    return None


# ------------------------------------------------------------------------ the checker


def _write_package(tmp_path: Path, sources: dict[str, str]) -> Path:
    package = tmp_path / "pkg"
    for name, source in sources.items():
        path = package / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source))
    return package


def test_the_checker_finds_a_module_level_cycle_and_names_it(tmp_path):
    package = _write_package(
        tmp_path,
        {
            "__init__.py": "from .a import f\n",
            "a.py": "from .b import g\n\ndef f(): ...\n",
            "b.py": (
                "import os\ntry:\n    from pkg.sub.c import h\nexcept ImportError:\n    h = None\n"
            ),
            "sub/__init__.py": "",
            "sub/c.py": "from .. import a\n",
        },
    )
    graph = import_graph(package)
    assert graph["pkg"] == {"pkg.a"}
    assert graph["pkg.b"] == {"pkg.sub.c"}
    assert graph["pkg.sub.c"] == {"pkg.a"}
    assert find_cycle(graph) == ["pkg.a", "pkg.b", "pkg.sub.c", "pkg.a"]


def test_the_checker_leaves_out_imports_that_run_after_loading(tmp_path):
    package = _write_package(
        tmp_path,
        {
            "__init__.py": "from . import a\n",
            "a.py": "from typing import TYPE_CHECKING\nfrom .b import g\n",
            "b.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    from .a import Thing\nelse:\n    import json\n"
                "def g():\n    from . import a\n    return a\n"
            ),
        },
    )
    assert find_cycle(import_graph(package)) is None
    # every import, deferred ones included, closes the cycle
    assert find_cycle(import_graph(package, module_level=False)) == ["pkg.a", "pkg.b", "pkg.a"]


def test_the_checker_reads_from_package_import_name_as_an_edge_to_the_package(tmp_path):
    package = _write_package(
        tmp_path,
        {
            "__init__.py": "from .a import f\n__version__ = '1'\n",
            "a.py": "from . import __version__\n\ndef f(): ...\n",
        },
    )
    assert find_cycle(import_graph(package)) == ["pkg", "pkg.a", "pkg"]


# ------------------------------------------------------------------------ the package


def test_the_package_has_no_import_cycle():
    graph = import_graph(PACKAGE_DIR)
    assert {"lrtiers", "lrtiers.fit", "lrtiers.settings", "lrtiers.tiers"} <= set(graph)
    assert "lrtiers.settings" in graph["lrtiers.fit"]  # the graph sees the package's imports
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle among module-level imports: " + " -> ".join(cycle)


def _outside_names() -> set[str]:
    """Names under which the benchmarks and tests could be imported: their folders and, as
    they can be put on sys.path, the modules in them."""
    names = {"benchmarks", "tests", "conftest"}
    for folder in (ROOT / "benchmarks", ROOT / "tests"):
        names.update(path.stem for path in folder.rglob("*.py") if path.stem != "__init__")
    return names


def _called_name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    return func.attr if isinstance(func, ast.Attribute) else ""


def test_no_module_of_the_package_imports_the_benchmarks_or_the_tests():
    outside = _outside_names()
    assert {"bench", "tutorial_scripts", "conftest"} <= outside
    found = []
    for name, path in module_files(PACKAGE_DIR).items():
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in _imports(tree, module_level=False):
            if isinstance(node, ast.ImportFrom) and node.level:
                continue  # relative: inside the package
            targets = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
            )
            found += [f"{name}: {t}" for t in targets if t.split(".")[0] in outside]
        for node in ast.walk(tree):  # importlib.import_module("...") / __import__("...")
            if (
                isinstance(node, ast.Call)
                and _called_name(node.func) in ("import_module", "__import__")
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and str(node.args[0].value).split(".")[0] in outside
            ):
                found.append(f"{name}: {node.args[0].value}")
    assert not found, "the package imports the benchmarks or tests: " + ", ".join(found)
