"""Builds on a Dask cluster (`build --scheduler`, issue 19): a real
distributed.LocalCluster of two worker processes on the loopback interface,
started once for the module."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys

import pytest

from conftest import PROJECT_DIR, SOURCE_DIR, files_under, read_manifest, run_cli
from materials.jobs import PRODUCT_FORMATS
from test_failures import card_front_override, write_override
from test_interrupts import assert_output_consistent

distributed = pytest.importorskip("distributed")

# One venue's every product, for a fictional area: a file per product, the print-shop
# ones and the posters' auto-fit among them.
# The session's hotels_area_build (conftest) is this selection built on the
# local pool: the reference a cluster build is compared with.
SELECTION = ("--source", SOURCE_DIR, "--venue", "hotels", "--area", "example-borough")
SELECTED = {f"example-borough/hotels/{fmt.filename}" for fmt in PRODUCT_FORMATS}


@pytest.fixture(scope="module")
def cluster():
    """Two worker processes, one thread each, reachable on 127.0.0.1 only;
    a client of it for the tests' own look at the workers."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as local_cluster:
        with distributed.Client(local_cluster) as client:
            yield local_cluster.scheduler_address, client


def checksums(out) -> dict[str, str]:
    return {name: hashlib.sha256((out / name).read_bytes()).hexdigest()
            for name in files_under(out) if name.endswith(".pdf")}


def test_a_cluster_build_is_the_local_build_byte_for_byte(cluster, hotels_area_build, tmp_path):
    address, _ = cluster
    out = tmp_path / "out"
    result = run_cli("build", *SELECTION, "--out", out, "--scheduler", address)
    assert result.exit_code == 0, result.stderr
    assert checksums(out) == checksums(hotels_area_build)
    assert set(checksums(out)) == SELECTED
    # The manifest (preflight results, fit scales, warnings) is the local one's too.
    assert read_manifest(out) == read_manifest(hotels_area_build)
    # The same progress: a numbered line per file, and the summary.
    lines = [line for line in result.stderr.splitlines() if line.startswith("[")]
    total = len(SELECTED)
    assert sorted(int(re.match(rf"\[(\d+)/{total}\]", line)[1]) for line in lines) == list(range(1, total + 1))
    assert re.search(rf"^Built {total} files \(\d+ pages\) in [\d.]+ s into ", result.stderr, re.MULTILINE)
    # Each file's catalogue picture came back with it.
    assert len(list((out / ".thumbnails").rglob("*.png"))) == len(SELECTED)


def test_a_worker_killed_mid_build_leaves_every_file_built_or_failed_and_nothing_half_written(
        cluster, hotels_area_build, tmp_path):
    address, client = cluster
    out = tmp_path / "out"
    command = [sys.executable, "-m", "make_materials", "build", *map(str, SELECTION), "--out", str(out),
               "--scheduler", address]
    process = subprocess.Popen(command, cwd=PROJECT_DIR, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True)
    stderr = []
    try:
        for line in process.stderr:  # the first file written: the build is under way
            stderr.append(line)
            if line.startswith("[1/"):
                break
        busy = [worker for worker, keys in client.processing().items() if keys]
        assert busy, "no worker was making a file"
        pids = client.run(os.getpid)
        os.kill(pids[busy[0]], signal.SIGKILL)
        stderr.append(process.stderr.read())
        process.wait(timeout=300)
    finally:
        process.kill()
    stderr = "".join(stderr)
    assert "Traceback" not in stderr, stderr
    failed = set(re.findall(rf"^\[\d+/{len(SELECTED)}\] FAILED (\S+)$", stderr, re.MULTILINE))
    for name in failed:  # each failed file says why
        assert re.search(rf"^  error: {re.escape(name)}: .+", stderr, re.MULTILINE), stderr
    built = checksums(out)
    assert set(built) | failed == SELECTED, stderr
    assert process.returncode == (1 if failed else 0), stderr
    # A file made again on another worker is still the file a local build makes.
    assert built == {name: digest for name, digest in checksums(hotels_area_build).items() if name in built}
    assert_output_consistent(out)
    client.wait_for_workers(2, timeout=60)  # the nanny starts another in its place, for the next tests


def test_a_file_that_fails_on_a_worker_fails_with_its_message_and_the_others_are_built(
        cluster, tmp_path, layouts_copy):
    """The layouts travel with the jobs: a venue's own layout, in a copy of
    layouts/ the workers never see on disk, is used there and fails there."""
    address, _ = cluster
    write_override(layouts_copy, "wallet-card", "hotels", card_front_override("{{ venue.no_such_field }}"))
    arguments = ("build", "--source", SOURCE_DIR, "--layouts", layouts_copy, "--venue", "hotels", "--venue", "parks",
                 "--product", "wallet-card", "--variant", "office")
    here = run_cli(*arguments, "--out", tmp_path / "here")
    there = run_cli(*arguments, "--out", tmp_path / "there", "--scheduler", address)
    assert there.exit_code == here.exit_code == 1
    errors = sorted(line for line in there.stderr.splitlines() if line.startswith("  error: "))
    assert errors == sorted(line for line in here.stderr.splitlines() if line.startswith("  error: "))
    assert any("no_such_field" in line for line in errors)
    assert set(checksums(tmp_path / "there")) == {"parks/wallet-card.pdf", "parks/wallet-cards-sheet-a4.pdf"}


# Run inside one worker: importlib.metadata says its WeasyPrint is another version.
PRETEND_OTHER_WEASYPRINT = """
import importlib.metadata as metadata
real_version = metadata.version
metadata.version = lambda name: "69.0" if name.lower() == "weasyprint" else real_version(name)
"""


def test_a_worker_with_another_weasyprint_is_refused_and_nothing_is_built(cluster, tmp_path):
    address, client = cluster
    client.wait_for_workers(2, timeout=60)
    other = sorted(client.scheduler_info()["workers"])[0]
    client.run(exec, PRETEND_OTHER_WEASYPRINT, {}, workers=[other])
    try:
        out = tmp_path / "out"
        result = run_cli("build", *SELECTION, "--out", out, "--scheduler", address)
    finally:
        client.restart_workers([other])
    assert result.exit_code == 1
    assert "the Dask workers do not have what this machine has" in result.stderr
    assert f"  {other}: weasyprint 70.0 here, 69.0 on the worker" in result.stderr
    assert "nothing was built" in result.stderr
    assert not (out / "manifest.json").exists() and not list(out.rglob("*.pdf"))


def test_an_unreachable_scheduler_in_the_environment_is_a_clear_error(tmp_path, monkeypatch):
    import materials.cluster

    monkeypatch.setattr(materials.cluster, "CONNECT_SECONDS", 1)
    monkeypatch.setenv("MAKE_MATERIALS_SCHEDULER", "tcp://127.0.0.1:9")  # the discard port: nobody listens
    result = run_cli("build", *SELECTION, "--out", tmp_path / "out")
    assert result.exit_code == 1
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in result.stderr
    assert not (tmp_path / "out" / "manifest.json").exists()


def test_a_local_build_does_not_import_dask(tmp_path):
    program = (
        "import sys\n"
        "from make_materials import main\n"
        f"sys.argv = ['make-materials', 'build', '--source', {str(SOURCE_DIR)!r}, '--out', {str(tmp_path / 'out')!r},"
        " '--venue', 'hotels', '--product', 'wallet-card', '--variant', 'office']\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as end:\n"
        "    assert not end.code, end.code\n"
        "print(sorted(name for name in sys.modules if name.split('.')[0] in ('distributed', 'dask')))\n")
    done = subprocess.run([sys.executable, "-c", program], cwd=PROJECT_DIR, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert "Built 2 files" in done.stderr
    assert done.stdout.strip() == "[]"
    assert json.loads((tmp_path / "out" / "manifest.json").read_text())["files"]
