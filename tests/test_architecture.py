"""House rule: dependencies point one way (spatial <- layers <- gui <- main)."""

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _imports(package: str):
    for path in (ROOT / package).rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield path, alias.name
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                yield path, node.module


@pytest.mark.parametrize(
    "package, forbidden",
    [
        ("spatial", ("PySide6", "PyQt5", "PyQt6", "layers", "gui")),
        ("layers", ("PySide6", "PyQt5", "PyQt6", "gui")),
        ("sample_data", ("PySide6", "gui")),
    ],
)
def test_forbidden_imports(package, forbidden):
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path, name in _imports(package)
        if name.split(".")[0] in forbidden
    ]
    assert not offenders, "\n".join(offenders)


def test_import_linter_contracts_hold():
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if exe is None:
        pytest.fail("import-linter is a test dependency; install with pip install -e .[test]")
    result = subprocess.run([exe], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_spatial_imports_without_qt():
    code = (
        "import sys, importlib, pkgutil, spatial\n"
        "for m in pkgutil.walk_packages(spatial.__path__, 'spatial.'):\n"
        "    importlib.import_module(m.name)\n"
        "assert not any(k.startswith('PySide6') for k in sys.modules), 'Qt was imported'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
