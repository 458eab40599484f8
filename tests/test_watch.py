"""`make-materials watch` (issue 7): one build, then a rebuild of what changed
on every edit, a source mistake reported without stopping, Ctrl-C to stop."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from watchfiles import Change

from conftest import SOURCE_DIR, run_cli
from materials.jobs import PRODUCT_FORMATS
from materials.watch import SourceChanges, changed_files

COMMAND = Path(sys.executable).parent / "make-materials"
OFFICE_FILES = {f"parks/{fmt.filename}" for fmt in PRODUCT_FORMATS if fmt.variant == "office"}
TIMEOUT_S = 60
WAITING = "Waiting for the next change."


class Watcher:
    """`make-materials watch` in a child process, its stderr read line by line."""

    def __init__(self, *args: str, cwd: Path, env: dict[str, str] | None = None):
        self.process = subprocess.Popen([str(COMMAND), "watch", *args], cwd=cwd, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen = ""
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stderr:
            self.lines.put(line)
        self.lines.put(None)  # the process closed stderr: it has ended

    def until(self, text: str) -> str:
        """What the watcher prints from now until a line holding `text`."""
        deadline = time.monotonic() + TIMEOUT_S
        printed = ""
        while True:
            try:
                line = self.lines.get(timeout=max(deadline - time.monotonic(), 0))
            except queue.Empty:
                raise AssertionError(f"no {text!r} within {TIMEOUT_S} s; stderr so far:\n{self.seen}") from None
            assert line is not None, f"the watcher ended (status {self.process.wait()}):\n{self.seen}"
            printed += line
            self.seen += line
            if text in line:
                return printed


def built_files(printed: str) -> set[str]:
    return set(re.findall(r"^\[\d+/\d+\] (\S+\.pdf)  \d+ pages?", printed, re.MULTILINE))


def test_watch_rebuilds_what_changed_survives_a_yaml_error_and_stops_on_ctrl_c(source_copy, tmp_path):
    venue = source_copy / "venues" / "parks.yaml"
    watcher = Watcher("--source", "source", "--out", "out", "--venue", "parks", "--variant", "office",
                      cwd=tmp_path)
    try:
        first = watcher.until("Watching source/ and ")
        assert built_files(first) == OFFICE_FILES, first
        inodes = {name: (tmp_path / "out" / name).stat().st_ino for name in OFFICE_FILES}

        # the venue's name is on every product: each is made again, and named
        renamed = venue.read_text(encoding="utf-8").replace("name: Parks\n", "name: Parks and gardens\n")
        venue.write_text(renamed, encoding="utf-8")
        printed = watcher.until(WAITING)
        assert "Changed: source/venues/parks.yaml" in printed
        assert built_files(printed) == OFFICE_FILES, printed
        assert all((tmp_path / "out" / name).stat().st_ino != inodes[name] for name in OFFICE_FILES)
        assert "Parks and gardens" in (tmp_path / "out" / "index.html").read_text(encoding="utf-8")

        # a YAML mistake is reported with its place, nothing is built, and the watcher waits on
        venue.write_text(renamed + "signs: [unclosed\n", encoding="utf-8")
        printed = watcher.until(WAITING)
        assert re.search(r"^error: source/venues/parks\.yaml:\d+:\d+: ", printed, re.MULTILINE), printed
        assert "Error: the source has 1 problem; nothing was written" in printed
        assert built_files(printed) == set() and "Traceback" not in printed
        assert watcher.process.poll() is None

        # fixed again: the files on disk already match it
        venue.write_text(renamed, encoding="utf-8")
        assert f"Nothing to build: all {len(OFFICE_FILES)} files" in watcher.until(WAITING)

        watcher.process.send_signal(signal.SIGINT)
        assert watcher.process.wait(TIMEOUT_S) == 0
        assert "Stopped watching." in watcher.until("Stopped watching.")
    finally:
        if watcher.process.poll() is None:
            watcher.process.kill()
            watcher.process.wait()


def test_watch_refuses_an_unknown_venue_before_it_starts(tmp_path):
    result = run_cli("watch", "--source", SOURCE_DIR, "--out", tmp_path / "out", "--venue", "nowhere")
    assert result.exit_code == 2
    assert "unknown venue nowhere" in result.stderr


def test_writes_to_the_output_folder_and_editors_temporary_files_start_no_build(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    worth_a_build = SourceChanges(tmp_path / "source" / "out")  # an output folder inside the source
    assert worth_a_build(Change.modified, str(tmp_path / "source" / "venues" / "parks.yaml"))
    assert not worth_a_build(Change.modified, str(tmp_path / "source" / "out" / "index.html"))
    assert not worth_a_build(Change.added, str(tmp_path / "source" / "venues" / ".parks.yaml.swp"))

    (tmp_path / "parks.yaml").write_text("name: Parks\n")
    temporary = str(tmp_path / "sedX1y2Z3")  # `sed -i` writes here, then renames it over parks.yaml
    batch = {(Change.added, temporary), (Change.deleted, temporary),
             (Change.added, str(tmp_path / "parks.yaml")), (Change.deleted, str(tmp_path / "gyms.yaml"))}
    assert changed_files(batch) == ["gyms.yaml", "parks.yaml"]


def manifest_hashes(out: Path) -> dict[str, str]:
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    return {entry["file"]: entry["sha256"] for entry in manifest["files"]}


def test_watch_keeps_its_workers_and_makes_what_build_makes(source_copy, layouts_copy, tmp_path):
    # The rendering process lives from one build to the next (one, so that it
    # renders the files in the same order every time: the card it laid out
    # last is the first one its next build needs): after an edit to the source,
    # and one to a stylesheet, each file is the one a fresh `build` makes from
    # the same files, byte for byte.
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    selection = ("--venue", "parks", "--product", "wallet-card", "--variant", "office")

    def fresh_build(number: int) -> dict[str, str]:
        result = run_cli("build", "--source", "source", "--layouts", layouts_copy, "--out",
                         tmp_path / f"fresh{number}", *selection)
        assert result.exit_code == 0, result.stderr
        return manifest_hashes(tmp_path / f"fresh{number}")

    watcher = Watcher("--source", "source", "--layouts", str(layouts_copy), "--out", "out", *selection,
                      "--jobs", "1", cwd=tmp_path, env={**os.environ, "TMPDIR": str(temporary)})
    try:
        watcher.until("Watching source/ and ")
        venue = source_copy / "venues" / "parks.yaml"
        venue.write_text(venue.read_text(encoding="utf-8").replace(  # a sign on the card
            "short: Young people meeting older groups", "short: Young people meeting groups of older people"),
            encoding="utf-8")
        assert len(built_files(watcher.until(WAITING))) == 2  # the card, and the sheet it is imposed on
        assert manifest_hashes(tmp_path / "out") == fresh_build(1)

        stylesheet = layouts_copy / "wallet-card" / "wallet-card.css"
        stylesheet.write_text(stylesheet.read_text(encoding="utf-8") + "\nh1 { letter-spacing: 0.4pt; }\n",
                              encoding="utf-8")
        assert len(built_files(watcher.until(WAITING))) == 2
        assert manifest_hashes(tmp_path / "out") == fresh_build(2)

        watcher.process.send_signal(signal.SIGINT)
        assert watcher.process.wait(TIMEOUT_S) == 0
    finally:
        if watcher.process.poll() is None:
            watcher.process.kill()
            watcher.process.wait()
    assert list(temporary.iterdir()) == []  # the workers' copies of the fonts went with them


def test_a_kept_pool_reads_an_edited_press_profile_afresh(layouts_copy, tmp_path):
    """The press profile is cached by its path in each worker; after the file
    changes, the press files watch makes embed the new profile, as a fresh
    build's do."""
    import hashlib

    from materials.jobs import Selection
    from materials.pipeline import build
    from materials.press import PRESS_PROFILE
    from materials.workers import RenderPool

    selection = Selection(venues=("hotels",), products=("poster",), variants=("press",))
    kept, fresh = tmp_path / "kept", tmp_path / "fresh"
    with RenderPool(2) as pool:
        pool.start()
        assert not build(selection, source_dir=SOURCE_DIR, layouts_dir=layouts_copy, out_dir=kept, pool=pool).failed
        profile = layouts_copy / PRESS_PROFILE
        before = {path.name: path.read_bytes() for path in kept.rglob("*.pdf")}
        profile.write_bytes(profile.read_bytes() + b"\0" * 16)  # still a valid profile, other bytes
        assert not build(selection, source_dir=SOURCE_DIR, layouts_dir=layouts_copy, out_dir=kept, pool=pool).failed
    assert not build(selection, source_dir=SOURCE_DIR, layouts_dir=layouts_copy, out_dir=fresh).failed

    def digests(folder):
        return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in folder.rglob("*.pdf")}
    assert len(digests(kept)) == 3
    assert digests(kept) == digests(fresh)
    assert all(before[path.name] != path.read_bytes() for path in kept.rglob("*.pdf"))
