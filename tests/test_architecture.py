"""The layers stay apart: the domain and everything below the UI never import Textual."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_import_linter_contracts_hold() -> None:
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert lint, "import-linter is part of the test extra"
    result = subprocess.run([lint], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_lower_layers_load_without_textual() -> None:
    modules = [
        "agentdesk.domain.model", "agentdesk.domain.queue", "agentdesk.domain.text",
        "agentdesk.store.reader", "agentdesk.store.writer", "agentdesk.store.migrate",
        "agentdesk.interchange.load", "agentdesk.interchange.dump", "agentdesk.demo.build",
    ]
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "print('textual' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
