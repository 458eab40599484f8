"""`make-materials watch`: which changes to the source and layouts start a rebuild.

Imported by the watch command only: a build does not need watchfiles.
"""

from __future__ import annotations

from pathlib import Path

import watchfiles

from .errors import display_path


class SourceChanges(watchfiles.DefaultFilter):
    """Changes worth a rebuild: watchfiles' default filter (no editor swap
    files, no .git) less anything under the output folder, whose own writes
    would otherwise start a rebuild when it lies inside a watched folder."""

    def __init__(self, out_dir: Path):
        super().__init__()
        self.out_dir = out_dir.resolve()

    def __call__(self, change: watchfiles.Change, path: str) -> bool:
        return super().__call__(change, path) and not Path(path).is_relative_to(self.out_dir)


def changed_files(changes: set[tuple[watchfiles.Change, str]]) -> list[str]:
    """The files a batch of changes touched, each named once. A file that came
    and went within the batch (an editor's or `sed -i`'s temporary file) is
    left out."""
    added = {path for change, path in changes if change == watchfiles.Change.added}
    return sorted({display_path(Path(path)) for _, path in changes if path not in added or Path(path).exists()})
