"""The apps inside webapp/ form a one-way chain (docs: DESIGN.md, "Apps inside webapp/"):

    teams, jobs  <-  studio  <-  architectures  <-  review

An app imports only apps to its left; ``webapp/apikit`` is a library anyone may import (and it
imports no app); the project's own modules at webapp/'s root (urls, asgi, celery, settings...)
may import every app, and no app imports them. Links to pages further right go by URL name,
and what an app needs from one to its right it gets by registration (webapp.teams.sections,
webapp.studio.seeding), a Django signal (webapp.teams.events) or a template tag library.

No import of the project's code may hide inside a function to dodge a cycle: every such import
is a failure, except in an AppConfig's ``ready`` (Django's rule: models load first) and the few
listed in ``LAZY_ALLOWED`` with their reason. Nothing under videomodels/ or archsearch/ (pure
Python libraries) imports Django or the web app.

Static: every module is parsed (ast), none is imported.
"""
from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WEBAPP = ROOT / "webapp"

# Left to right: an app may import the apps before it in this list. jobs is the job runtime: like
# teams it sits at the bottom; it may ask the decision (teams).
CHAIN = ["teams", "jobs", "studio", "architectures", "review"]
LIBRARIES = {"apikit"}  # shared code every app may import; it imports no app

# (module, imported module) -> why the import must stay inside a function. Empty: services send
# their Celery tasks by name (webapp.studio.services.task_names) or through the job runtime. A
# listed import that no longer exists fails the test, so the list can only shrink.
LAZY_ALLOWED: dict[tuple[str, str], str] = {}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imported_modules(node: ast.AST, module: str, is_package: bool) -> list[str]:
    """The absolute module names an Import or ImportFrom node brings in (``from x import y``: x.y, as y may be a module)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:  # relative: resolved against the importing module's package
        package = module.split(".") if is_package else module.split(".")[:-1]
        base = package[: len(package) - (node.level - 1)]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    return [target] + [f"{target}.{alias.name}" for alias in node.names if alias.name != "*"]


class Imports(ast.NodeVisitor):
    """Every import of a module, with the function it sits in (None at module level)."""

    def __init__(self, module: str, is_package: bool):
        self.module, self.is_package = module, is_package
        self.found: list[tuple[int, str, str | None, bool]] = []  # (line, imported, function, inside AppConfig.ready)
        self.functions: list[str] = []
        self.classes: list[ast.ClassDef] = []

    def visit_ClassDef(self, node):
        self.classes.append(node)
        self.generic_visit(node)
        self.classes.pop()

    def visit_FunctionDef(self, node):
        self.functions.append(node.name)
        self.generic_visit(node)
        self.functions.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Import(self, node):
        function = self.functions[-1] if self.functions else None
        in_ready = (function == "ready" and len(self.functions) == 1 and bool(self.classes)
                    and any("AppConfig" in ast.unparse(base) for base in self.classes[-1].bases))
        for name in imported_modules(node, self.module, self.is_package):
            self.found.append((node.lineno, name, function, in_ready))

    visit_ImportFrom = visit_Import


def scan(path: Path) -> Imports:
    visitor = Imports(module_name(path), path.name == "__init__.py")
    visitor.visit(ast.parse(path.read_text(), filename=str(path)))
    return visitor


def app_of(module: str) -> str | None:
    """The webapp app a module belongs to ("studio"), "" for the project's root modules, None outside webapp."""
    parts = module.split(".")
    if parts[0] != "webapp":
        return None
    if len(parts) == 1:
        return ""
    return parts[1] if (WEBAPP / parts[1]).is_dir() else ""


def apps_present() -> list[str]:
    return sorted(p.name for p in WEBAPP.iterdir() if p.is_dir() and (p / "__init__.py").exists())


def app_modules(app: str):
    for path in sorted((WEBAPP / app).rglob("*.py")):
        yield path, scan(path)


def dependency_graph() -> dict[str, dict[str, list[str]]]:
    """app -> app it imports -> where ("module:line"), for every module-level or lazy import between apps."""
    graph: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for app in apps_present():
        for path, imports in app_modules(app):
            for line, name, _, _ in imports.found:
                other = app_of(name)
                if other is not None and other != app:
                    where = f"{path.relative_to(ROOT)}:{line}"
                    if where not in graph[app][other or "webapp (root)"]:
                        graph[app][other or "webapp (root)"].append(where)
    return graph


def drawn(graph) -> str:
    """The graph as a reader draws it: one line per app, what it imports and from where (first places)."""
    lines = ["app dependency graph (an arrow: imports):", f"  chain: {' <- '.join(CHAIN)}; libraries: {', '.join(sorted(LIBRARIES))}"]
    for app in apps_present():
        targets = graph.get(app, {})
        if not targets:
            lines.append(f"  {app} -> (nothing)")
        for other, places in sorted(targets.items()):
            shown = ", ".join(places[:3]) + (f" (+{len(places) - 3} more)" if len(places) > 3 else "")
            lines.append(f"  {app} -> {other}: {shown}")
    return "\n".join(lines)


def allowed(app: str, other: str) -> bool:
    if other in LIBRARIES:
        return app not in LIBRARIES or other == app
    if app in LIBRARIES:
        return False
    if other == "webapp (root)":
        return False  # the root imports every app: an app importing it closes a loop
    return other in CHAIN and app in CHAIN and CHAIN.index(other) < CHAIN.index(app)


def test_every_app_has_a_place_in_the_chain():
    unplaced = [app for app in apps_present() if app not in CHAIN and app not in LIBRARIES]
    assert unplaced == [], f"apps in webapp/ that are neither in CHAIN nor in LIBRARIES (place them): {unplaced}"


def test_apps_import_only_apps_to_their_left():
    graph = dependency_graph()
    wrong = [f"{app} -> {other} at {', '.join(places)}" for app, targets in sorted(graph.items())
             for other, places in sorted(targets.items()) if not allowed(app, other)]
    assert wrong == [], ("imports against the chain (an app imports only apps to its left; apikit imports no app; no app "
                         "imports the project's root modules):\n  " + "\n  ".join(wrong) + "\n\n" + drawn(graph))


def test_the_apps_import_no_loop():
    """Implied by the chain, but said on its own: a loop is named even when the chain's order is changed."""
    graph = dependency_graph()
    edges = {app: {other for other in targets if other in graph or other in apps_present()} for app, targets in graph.items()}
    loops = []

    def visit(node, path):
        for nxt in sorted(edges.get(node, ())):
            if nxt in path:
                loops.append(" -> ".join(path[path.index(nxt):] + [nxt]))
            elif len(path) < len(edges) + 1:
                visit(nxt, path + [nxt])

    for app in sorted(edges):
        visit(app, [app])
    assert loops == [], "apps importing each other in a loop:\n  " + "\n  ".join(sorted(set(loops))) + "\n\n" + drawn(graph)


def test_no_import_of_the_project_hides_inside_a_function():
    hidden, used = [], set()
    for app in apps_present():
        for path, imports in app_modules(app):
            statements = defaultdict(list)  # one import statement brings in several names: judged once
            for line, name, function, in_ready in imports.found:
                if function is not None and app_of(name) is not None and not in_ready:
                    statements[(line, function)].append(name)
            for (line, function), names in sorted(statements.items()):
                key = next(((imports.module, name) for name in names if (imports.module, name) in LAZY_ALLOWED), None)
                if key is not None:
                    used.add(key)
                else:
                    hidden.append(f"{path.relative_to(ROOT)}:{line} imports {names[0]} inside {function}()")
    assert hidden == [], ("imports of the project's code inside a function (move them to the top; a cycle is fixed by "
                          "moving code or inverting the dependency, not by hiding the import):\n  " + "\n  ".join(hidden)
                          + "\n\n" + drawn(dependency_graph()))
    stale = sorted(set(LAZY_ALLOWED) - used)
    assert stale == [], f"LAZY_ALLOWED entries that no longer match an import (delete them): {stale}"


def test_the_pure_libraries_import_neither_django_nor_the_web_app():
    wrong = []
    for package in ("videomodels", "archsearch"):
        for path in sorted((ROOT / package).rglob("*.py")):
            for line, name, _, _ in scan(path).found:
                top = name.split(".")[0]
                if top in ("django", "webapp", "rest_framework", "channels", "celery"):
                    wrong.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    assert wrong == [], "videomodels/ and archsearch/ are pure Python, usable without the web app:\n  " + "\n  ".join(wrong)
