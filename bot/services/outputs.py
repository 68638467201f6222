"""Finished results kept on disk, for "Original quality": Telegram recompresses a photo sent
as a photo and cannot re-send it as a document, so the file itself must be uploaded again.

One file per result row (``<result id>.<ext>``), shared by every user the cache answers.
The folder is bounded: past ``max_files`` the oldest go first.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

log = logging.getLogger(__name__)


class ResultFiles:
    def __init__(self, folder: Path, max_files: int = 2000) -> None:
        self.folder = folder
        self.max_files = max_files

    def keep(self, result_id: int, source: Path, suffix: str) -> Path:
        """Copy ``source`` in as the file of ``result_id`` (atomically), then prune."""
        self.folder.mkdir(parents=True, exist_ok=True)
        dest = self.folder / f"{result_id}{suffix}"
        part = dest.with_name(dest.name + ".part")
        shutil.copyfile(source, part)
        part.replace(dest)
        self._prune()
        return dest

    def find(self, result_id: int) -> Path | None:
        if not self.folder.is_dir():
            return None
        for path in self.folder.glob(f"{result_id}.*"):
            if not path.name.endswith(".part"):
                return path
        return None

    def _prune(self) -> None:
        entries = sorted(
            (entry for entry in os.scandir(self.folder) if entry.is_file()),
            key=lambda entry: entry.stat().st_mtime,
        )
        for entry in entries[: max(0, len(entries) - self.max_files)]:
            Path(entry.path).unlink(missing_ok=True)
            log.debug("outputs.pruned", extra={"file": entry.name})
