"""The dependency rule: training -> model <- service, and model/ never imports Flask."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize("package", ["model", "training", "training.cli", "training.report"])
def test_package_imports_without_flask(package: str) -> None:
    code = (
        f"import sys, {package}; "
        "bad = sorted(m for m in sys.modules if m == 'flask' or m.startswith('flask.')); "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_model_imports_neither_training_nor_service() -> None:
    code = (
        "import sys, model; "
        "sys.exit(1 if any(m.split('.')[0] in ('training', 'service') for m in sys.modules) else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_the_serving_app_never_imports_training() -> None:
    code = (
        "import sys; from service import create_app; "
        "import service.akismet_api, service.json_api, service.health, service.registry; "
        "sys.exit(1 if any(m.split('.')[0] == 'training' for m in sys.modules) else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
