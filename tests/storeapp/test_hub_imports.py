"""`storeapp hub` answers before it imports what only the first screen or the sync engine
needs (issue #9, hub start ≤ 3 s): what its path imports before serving, in a fresh process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

# never on the hub's path before it serves (central's, the tests', and what a warm-up
# thread imports once the server starts)
NOT_BEFORE_SERVING = (
    "central",
    "schemathesis",
    "playwright",
    "flet_audio",
    "sqlite_utils",
    "apscheduler",
    "httpx",
    "biip",
    "sync.protocol",
    "storeapp.local",
    "storeapp.viewmodels",
    "storeapp.views",
)


def test_the_hub_path_imports_only_flet_its_server_and_the_settings() -> None:
    code = (
        "import json, sys; import storeapp.cli, storeapp.app; "
        "print(json.dumps(sorted(sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    loaded = set(json.loads(done.stdout))
    early = [m for m in NOT_BEFORE_SERVING if m in loaded]
    assert early == []
    assert "flet" in loaded and "storeapp.settings" in loaded


def test_serving_starts_before_the_screens_printing_or_sync_are_imported(tmp_path: Path) -> None:
    """`storeapp hub` all the way to the server starting: the app, its page routes and its
    printers are built, and none of the heavy modules is loaded for them (the warm-up thread,
    held back here, loads them once the server starts)."""
    code = f"""
import json, sys
import uvicorn
import storeapp.app as app
app._Warmup.start = lambda self: None
def serving(*args, **kwargs):
    print(json.dumps(sorted(sys.modules)))
    raise SystemExit(0)
uvicorn.run = serving
from storeapp.cli import main
sys.argv = ["storeapp", "hub", "--data-dir", {str(tmp_path / "hub")!r}, "--port", "1"]
main()
"""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    loaded = set(json.loads(done.stdout.strip().splitlines()[-1]))
    heavy = (
        *NOT_BEFORE_SERVING,
        "fpdf",
        "segno",
        "barcode",
        "numpy",
        "PIL",
        "storeapp.printing._source",
    )
    assert [m for m in heavy if m in loaded] == []
    assert "flet_web" in loaded and "storeapp.pages" in loaded
