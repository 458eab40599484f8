"""Interrupted and failing builds: what is on disk stays whole and described."""

from __future__ import annotations

import errno
import hashlib
import json
import signal
import subprocess
import sys
import time

import pytest
from pypdf import PdfReader

from conftest import SOURCE_DIR, files_under, run_cli
from materials.jobs import PRODUCT_FORMATS

BUILD = ("--venue", "hotels", "--venue", "parks")  # 20 files, about 8 s after 1.5 s of start-up


def assert_output_consistent(out) -> None:
    """Every PDF is whole, nothing temporary is left, and the manifest lists
    exactly the PDFs on disk with their true checksums."""
    assert not list(out.rglob("*.part")), "a temporary file was left behind"
    pdfs = {name for name in files_under(out) if name.endswith(".pdf")}
    for name in pdfs:
        assert len(PdfReader(out / name).pages) >= 1, name
    manifest = out / "manifest.json"
    if not pdfs:
        return
    entries = {entry["file"]: entry for entry in json.loads(manifest.read_text())["files"]}
    assert set(entries) == pdfs
    for name, entry in entries.items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == entry["sha256"], name


# Ctrl+C as the pool starts, before any file is written; a kill (SIGTERM)
# part way, with some files written and others being made.
@pytest.mark.parametrize("signal_number, delay", [(signal.SIGINT, 1.5), (signal.SIGTERM, 4.0)],
                         ids=["sigint-1.5s", "sigterm-4s"])
def test_a_build_killed_part_way_leaves_whole_files_and_a_true_manifest(tmp_path, signal_number, delay):
    out = tmp_path / "out"
    command = [sys.executable, "-m", "make_materials", "build", "--source", str(SOURCE_DIR), "--out", str(out),
               *BUILD]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(delay)
    process.send_signal(signal_number)
    _, stderr = process.communicate(timeout=120)
    assert "Traceback" not in stderr, stderr
    if out.exists():
        assert_output_consistent(out)
    # The next build completes, and leaves everything consistent.
    finished = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr
    assert_output_consistent(out)
    assert len(json.loads((out / "manifest.json").read_text())["files"]) == 2 * len(PRODUCT_FORMATS)


@pytest.mark.parametrize("error_number, message", [
    (errno.ENOSPC, "No space left on device"), (errno.EROFS, "Read-only file system"),
], ids=["full-disk", "read-only"])
def test_an_unwritable_output_folder_is_a_clear_error_and_loses_nothing(tmp_path, monkeypatch, error_number,
                                                                        message):
    """Simulated: the tests run as root, for whom a read-only folder is still writable."""
    out = tmp_path / "out"
    assert run_cli("build", "--source", SOURCE_DIR, "--out", out, "--venue", "hotels",
                   "--product", "wallet-card").exit_code == 0
    before = {name: (out / name).read_bytes() for name in files_under(out)}

    import materials.write

    def cannot_write(*args, **kwargs):
        raise OSError(error_number, message, str(out / "hotels"))

    monkeypatch.setattr(materials.write.tempfile, "mkstemp", cannot_write)
    result = run_cli("build", "--source", SOURCE_DIR, "--out", out, "--venue", "hotels", "--product", "wallet-card",
                     "--force")
    assert result.exit_code == 1
    assert f"cannot write to {out / 'hotels'}: {message}" in result.stderr
    assert {name: (out / name).read_bytes() for name in files_under(out)} == before
