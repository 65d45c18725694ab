"""`storeapp hub` answers before it imports what only the first screen or the sync engine
needs (issue #9, hub start ≤ 3 s): what its path imports before serving, in a fresh process."""

from __future__ import annotations

import json
import subprocess
import sys

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
