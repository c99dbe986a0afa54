"""The package layout stays a layering: no import circle inside a package, and domain code never
imports the web layer (lazy imports inside functions count too)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "smecluster"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """Module -> the smecluster modules it imports, anywhere in its body."""
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("smecluster"):
                for alias in node.names:  # `from smecluster.policy import pack` imports a module
                    full = f"{node.module}.{alias.name}"
                    targets.add(full if full in modules else node.module)
            elif isinstance(node, ast.Import):
                targets |= {a.name for a in node.names if a.name.startswith("smecluster")}
        graph[name] = {t for t in targets if t in modules and t != name}
    return graph


def cycles_within(graph: dict[str, set[str]], package: str) -> list[list[str]]:
    """Import circles among the modules of one package (depth-first search)."""
    nodes = {m for m in graph if m == package or m.startswith(package + ".")}
    found, state = [], {}

    def visit(m: str, stack: list[str]) -> None:
        state[m] = "open"
        for t in sorted(graph[m] & nodes):
            if state.get(t) == "open":
                found.append([*stack[stack.index(t):], t])
            elif t not in state:
                visit(t, [*stack, t])
        state[m] = "done"

    for m in sorted(nodes):
        if m not in state:
            visit(m, [m])
    return found


def test_cycle_finder_sees_a_circle():
    graph = {"p.a": {"p.b"}, "p.b": {"p.a"}, "p.c": set()}
    assert cycles_within(graph, "p") == [["p.a", "p.b", "p.a"]]


@pytest.mark.parametrize("package", ["smecluster.policy", "smecluster.analytics", "smecluster.registry",
                                     "smecluster.accounts", "smecluster.geo", "smecluster.workflow",
                                     "smecluster.services", "smecluster.chains", "smecluster.reports"])
def test_no_import_circle_inside_a_domain_package(package):
    assert cycles_within(import_graph(), package) == []


def test_domain_code_never_imports_the_web_layer():
    domain = ("policy", "analytics", "registry", "geo", "workflow", "accounts", "reports", "services")
    graph = import_graph()
    bad = sorted(f"{m} -> {t}" for m, ts in graph.items() for t in ts
                 if m.split(".")[1] in domain and t.startswith("smecluster.web"))
    assert bad == []


def _requirement_name(spec: str) -> str:
    import re

    return re.split(r"[\s\[<>=!~;]", spec, maxsplit=1)[0].lower().replace("_", "-")


def _installed_closure(names: set[str]) -> set[str]:
    """The distributions `names` need, transitively, without extras (what a plain install brings)."""
    from importlib.metadata import PackageNotFoundError, requires

    seen, todo = set(), list(names)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            reqs = requires(name) or []
        except PackageNotFoundError:
            continue
        todo += [_requirement_name(r) for r in reqs if "extra ==" not in r]
    return seen


def test_product_code_imports_only_what_a_plain_install_brings():
    """Every third-party module the product imports (lazily or not) comes with its main dependencies,
    not only with the test or dev extras: `smecluster bench web` once needed httpx from the tests. A
    product extra (`spark`) may be imported only inside a function, so that a plain install still runs."""
    import sys
    import tomllib
    from importlib.metadata import packages_distributions

    project = tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    plain = _installed_closure({_requirement_name(d) for d in project["dependencies"]})
    extras = _installed_closure({_requirement_name(d) for name, deps in project["optional-dependencies"].items()
                                 if name not in ("test", "dev") for d in deps})
    providers = packages_distributions()
    missing = set()
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module] if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 else [])
            for top in {n.split(".")[0] for n in names}:
                if top == "smecluster" or top in sys.stdlib_module_names:
                    continue
                dists = {d.lower().replace("_", "-") for d in providers.get(top, [top])}
                if dists & plain or (dists & extras and node not in tree.body):
                    continue
                missing.add(f"{path.relative_to(PACKAGE.parent)}: {top}")
    assert sorted(missing) == []
