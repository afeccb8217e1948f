"""Run the real `shelter-match` console script in a subprocess."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

SCRIPT = shutil.which("shelter-match", path=str(Path(sys.executable).parent)) or "shelter-match"


def run_cli(*args: str, database_url: str | None = None, instance: Path | None = None,
            timeout: float = 120, stdin: str | None = None,
            extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHELTER_MATCH_")}
    env.update(extra_env or {})
    if database_url:
        env["SHELTER_MATCH_DATABASE_URL"] = database_url
    if instance:
        env["SHELTER_MATCH_INSTANCE_PATH"] = str(instance)
    return subprocess.run([SCRIPT, *args], capture_output=True, text=True, env=env,
                          timeout=timeout, check=False, input=stdin)
