"""The import rules of ARCHITECTURE.md, public surfaces, and house rules that a grep can check."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("cdp", "dsl", "privacy", "connectors")


def _py_files(package: str) -> list[Path]:
    return sorted(p for p in (ROOT / package).rglob("*.py") if "__pycache__" not in p.parts)


def _our_imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        for name in names:
            if name.split(".")[0] in PACKAGES:
                found.append((node.lineno, name))
    return found


ALLOWED = {
    # package: (allowed prefixes of our own modules)
    "dsl": ("dsl", "cdp.errors"),
    "privacy": ("privacy", "cdp.errors"),
    "connectors": ("connectors", "privacy", "cdp.errors"),
}


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_import_rules(package: str) -> None:
    allowed = ALLOWED[package]
    bad = []
    for path in _py_files(package):
        for line, name in _our_imports(path):
            if not any(name == a or name.startswith(a + ".") for a in allowed):
                bad.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    assert not bad, "import rules of ARCHITECTURE.md broken:\n" + "\n".join(bad)


def test_errors_module_is_a_leaf() -> None:
    assert _our_imports(ROOT / "cdp" / "errors.py") == []


@pytest.mark.parametrize("package", PACKAGES)
def test_every_package_declares_its_public_surface(package: str) -> None:
    missing = []
    for init in (ROOT / package).rglob("__init__.py"):
        if "__pycache__" in init.parts:
            continue
        tree = ast.parse(init.read_text(encoding="utf-8"))
        names = {t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)}
        names |= {n.target.id for n in tree.body if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)}
        has_code = any(not isinstance(n, ast.Expr) for n in tree.body)
        if has_code and "__all__" not in names:
            missing.append(str(init.relative_to(ROOT)))
    assert not missing, f"__init__.py without __all__: {missing}"


def test_no_pickle_or_joblib_loading() -> None:
    bad = []
    for package in PACKAGES:
        for path in _py_files(package):
            text = path.read_text(encoding="utf-8")
            for needle in ("pickle.load", "joblib.load", "import pickle", "import joblib", "cloudpickle"):
                if needle in text:
                    bad.append(f"{path.relative_to(ROOT)}: {needle}")
    assert not bad, bad


def test_every_command_has_help_with_an_example() -> None:
    import typer.main
    from typer.core import TyperGroup

    from cdp.cli import app

    root = typer.main.get_command(app)
    missing = []

    def walk(cmd, path: list[str]) -> None:  # noqa: ANN001
        if isinstance(cmd, TyperGroup) or hasattr(cmd, "commands"):
            for name, sub in cmd.commands.items():
                walk(sub, [*path, name])
            return
        text = (cmd.help or "") + (cmd.epilog or "")
        if "Example" not in text and "example" not in text:
            missing.append(" ".join(path))

    walk(root, ["cdp"])
    assert not missing, f"commands without an example in --help: {missing}"
