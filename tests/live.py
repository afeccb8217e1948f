"""The real service for tests over HTTP, with every answer scanned for leaked secrets."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from shelter_match.config import load_settings
from testbed import live
from tests import leak_scanner


@contextmanager
def running_service(*args: str, database_url: str | None = None, instance: Path | None = None,
                    workers: int = 2, extra_env: dict[str, str] | None = None
                    ) -> Iterator[tuple[str, Path]]:
    """Run `shelter-match ARGS` (testbed.live); yield (base_url, output_path).

    Every answer the test receives from it is scanned for leaked location secrets at the
    end (tests/leak_scanner.py), against the server's own database.
    """
    with live.running_service(*args, database_url=database_url, instance=instance,
                              workers=workers, extra_env=extra_env) as (base_url, output):
        with leak_scanner.recording_live_answers(base_url) as answers:
            yield base_url, output
        served_from = database_url or (
            load_settings({"SHELTER_MATCH_INSTANCE_PATH": str(instance)})
            .database_url.render_as_string(hide_password=False)
            if instance else None)
        if served_from:
            leak_scanner.scanner.leaks.extend(
                leak_scanner.scan_live_answers(served_from, answers))
