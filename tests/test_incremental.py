"""Incremental and parallel builds (issue 7, in part): only what changed is rebuilt."""

from __future__ import annotations

import gc
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from conftest import LAYOUTS_DIR, SOURCE_DIR, files_under, read_manifest, run_cli
from materials.jobs import PRODUCT_FORMATS
from materials.write import write_manifest
from pypdf import PdfReader

from materials.write import BUILD_RECORDS

TWO_VENUES = ("--venue", "hotels", "--venue", "parks")
FILES = 2 * len(PRODUCT_FORMATS)  # every product of the two venues


def inodes(out):
    return {name: (out / name).stat().st_ino for name in files_under(out) if name.endswith(".pdf")}


def build(source, out, *extra):
    result = run_cli("build", "--source", source, "--out", out, *TWO_VENUES, *extra)
    assert result.exit_code == 0, result.stderr
    return result


def copy_of(built: Path, out: Path) -> Path:
    """A copy of the session's build of the two venues (conftest), as the build
    before a test's own, in its own folder beside its own copy of the source:
    a file's key names the source's files by their place in the source folder,
    not on the disk."""
    shutil.copytree(built, out)
    return out


def rebuilt(before, after):
    return {name for name in before if before[name] != after[name]}


def test_only_what_changed_is_rebuilt(source_copy, tmp_path, two_venues_build):
    out = copy_of(two_venues_build, tmp_path / "out")  # as if the project had been moved
    first = inodes(out)
    assert len(first) == FILES

    result = build("source", out)  # nothing changed
    assert f"Nothing to build: all {FILES} files" in result.stderr
    assert rebuilt(first, inodes(out)) == set()

    venue = source_copy / "venues" / "parks.yaml"
    venue.write_text(venue.read_text().replace("Park rangers", "Park wardens"))
    build("source", out)
    assert {name.split("/")[0] for name in rebuilt(first, inodes(out))} == {"parks"}
    assert len(rebuilt(first, inodes(out))) == len(PRODUCT_FORMATS)

    second = inodes(out)
    forced = run_cli("build", "--source", "source", "--out", out, "--venue", "parks", "--force")
    assert forced.exit_code == 0, forced.stderr
    assert rebuilt(second, inodes(out)) == {name for name in second if name.startswith("parks/")}


def test_a_layout_change_rebuilds_the_products_that_use_it(source_copy, tmp_path, two_venues_build):
    layouts = tmp_path / "layouts"
    shutil.copytree(LAYOUTS_DIR, layouts)
    out = copy_of(two_venues_build, tmp_path / "out")
    first = inodes(out)
    stylesheet = layouts / "poster" / "poster.css"
    stylesheet.write_text(stylesheet.read_text() + "\n/* a designer's edit */\n")
    build("source", out, "--layouts", layouts)
    assert {name.rsplit("/", 1)[1] for name in rebuilt(first, inodes(out))} == {
        "poster-a3.pdf", "poster-a4.pdf", "poster-a2-press.pdf", "poster-a3-press.pdf", "poster-a4-press.pdf"}


def test_a_corrupt_manifest_only_costs_a_rebuild(source_copy, tmp_path, two_venues_build):
    out = copy_of(two_venues_build, tmp_path / "out")
    (out / "manifest.json").write_text("{ not json")
    result = build("source", out)
    assert "Nothing to build" not in result.stderr and f"Built {FILES} files" in result.stderr
    assert len(read_manifest(out)) == FILES


def test_parallel_and_serial_builds_give_the_same_bytes(source_copy, tmp_path, two_venues_build):
    """One venue's files made one after another in one process, against the
    same files made by two workers beside the other venue's."""
    serial = run_cli("build", "--source", "source", "--out", tmp_path / "serial", "--venue", "hotels", "--jobs", "1")
    assert serial.exit_code == 0, serial.stderr
    serial = {entry["file"]: entry["sha256"] for entry in read_manifest(tmp_path / "serial")}
    parallel = {entry["file"]: entry["sha256"] for entry in read_manifest(two_venues_build)
                if entry["file"].startswith("hotels/")}
    assert serial == parallel and len(serial) == len(PRODUCT_FORMATS)


def test_builds_leave_no_temporary_files(source_copy, tmp_path, monkeypatch):
    # WeasyPrint copies each font into a temporary folder, removed only when
    # its FontConfiguration is freed: a pool's worker ends before that happens,
    # and the command line skips Python's last garbage collection.
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    gc.disable()  # nothing is freed by the collector while the commands run
    try:
        build_only(tmp_path / "out", "--venue", "hotels", "--product", "wallet-card", "--jobs", "2")
        assert list(temporary.iterdir()) == []
        build_only(tmp_path / "out", "--venue", "hotels", "--product", "wallet-card", "--jobs", "1", "--force")
        assert list(temporary.iterdir()) == []
        result = run_cli("sign-in", "--source", "source", "--venue", "hotels", "--date", "2026-12-01",
                         "--out", tmp_path / "sign-in")
        assert result.exit_code == 0, result.stderr
        assert list(temporary.iterdir()) == []
    finally:
        gc.enable()


def test_a_translation_edit_rebuilds_only_that_language(source_copy, tmp_path):
    out = tmp_path / "out"
    args = ("--venue", "hotels", "--product", "wallet-card", "--variant", "office")
    langs = ("--lang", "en", "--lang", "cy", "--lang", "ur")
    result = run_cli("build", "--source", "source", "--out", out, *args, *langs)
    assert result.exit_code == 0, result.stderr
    first = inodes(out)
    assert len(first) == 6
    welsh = source_copy / "translations" / "cy.yaml"
    welsh.write_text(welsh.read_text().replace('hotels: {text: "Gwestai"}', 'hotels: {text: "Gwestai a mwy"}'))
    result = run_cli("build", "--source", "source", "--out", out, *args, *langs)
    assert result.exit_code == 0, result.stderr
    assert rebuilt(first, inodes(out)) == {"hotels/wallet-card-cy.pdf", "hotels/wallet-cards-sheet-a4-cy.pdf"}


# --- a build with nothing to do -----------------------------------------------------------

CARDS = ("--venue", "hotels", "--product", "wallet-card", "--variant", "office")
# Runs the command line in a fresh Python and names the heavy packages it imported.
IMPORTS_PROBE = """
import sys
from make_materials import main
sys.argv = ["make-materials", *sys.argv[1:]]
try:
    main()
except SystemExit as stop:
    assert not stop.code, stop.code
print(" ".join(name for name in ("pydantic", "weasyprint", "jinja2") if name in sys.modules))
"""


def build_only(out, *args):
    """A build of just what `args` choose."""
    result = run_cli("build", "--source", "source", "--out", out, *args)
    assert result.exit_code == 0, result.stderr
    return result


def probe_build(out, *args):
    done = subprocess.run([sys.executable, "-c", IMPORTS_PROBE, "build", "--source", "source", "--out", str(out),
                           *args], capture_output=True, text=True, cwd=Path.cwd())
    assert done.returncode == 0, done.stderr
    return done.stdout.split(), done.stderr


def test_a_build_with_nothing_to_do_loads_neither_the_source_nor_weasyprint(source_copy, tmp_path):
    out = tmp_path / "out"
    build_only(out, *CARDS)
    imported, stderr = probe_build(out, *CARDS)
    assert "Nothing to build: all 2 files" in stderr
    assert imported == []
    # Another selection is another build: its source is loaded and its jobs' keys checked.
    imported, stderr = probe_build(out, *CARDS, "--jobs", "1", "--product", "poster", "--variant", "press")
    assert "Built 6 files" in stderr and "2 unchanged" in stderr  # the press posters and card
    assert imported == ["pydantic", "weasyprint", "jinja2"]
    venue = source_copy / "venues" / "hotels.yaml"
    venue.write_text(venue.read_text().replace("Reception, housekeeping", "Reception, cleaning"))
    imported, stderr = probe_build(out, *CARDS)
    assert "Built 2 files" in stderr
    assert imported == ["pydantic", "weasyprint", "jinja2"]


def test_files_changed_since_the_last_build_are_made_again(source_copy, tmp_path):
    out = tmp_path / "out"
    build_only(out, *CARDS)
    first = inodes(out)
    card = out / "hotels" / "wallet-card.pdf"
    card.write_bytes(card.read_bytes() + b"\n% edited by hand\n")
    result = build_only(out, *CARDS)
    assert "Built 1 file" in result.stderr and "1 unchanged" in result.stderr
    assert rebuilt(first, inodes(out)) == {"hotels/wallet-card.pdf"}
    (out / "hotels" / "wallet-cards-sheet-a4.pdf").unlink()
    result = build_only(out, *CARDS)
    assert "Built 1 file" in result.stderr and "1 unchanged" in result.stderr
    assert files_under(out) == {*first, "manifest.json"}


def test_a_build_recorded_from_the_same_source_is_not_trusted_once_another_rebuilt_its_files(source_copy,
                                                                                                tmp_path):
    out = tmp_path / "out"
    build_only(out, *CARDS, "--venue", "parks")
    first = {entry["file"]: entry["sha256"] for entry in read_manifest(out)}
    venue = source_copy / "venues" / "hotels.yaml"
    original = venue.read_text()
    venue.write_text(original.replace("Reception, housekeeping", "Reception, cleaning"))
    build_only(out, *CARDS)  # the hotels' cards alone, from the edited source
    venue.write_text(original)  # the first build's source again, byte for byte
    before = inodes(out)
    result = build_only(out, *CARDS, "--venue", "parks")
    assert "Built 2 files" in result.stderr and "2 unchanged" in result.stderr
    assert rebuilt(before, inodes(out)) == {"hotels/wallet-card.pdf", "hotels/wallet-cards-sheet-a4.pdf"}
    assert {entry["file"]: entry["sha256"] for entry in read_manifest(out)} == first


def test_a_corrupt_record_of_builds_only_costs_a_check_of_every_key(source_copy, tmp_path):
    out = tmp_path / "out"
    build_only(out, *CARDS)
    nonsense = {"jobs": [{"format": "nonsense"}], "reviews": []}
    for garbage in ("{ not json", "[]", '{"x": 1}', json.dumps({"digest": nonsense}),
                    json.dumps({"digest": [{"format": "a record of before the reviews were recorded"}]})):
        (out / BUILD_RECORDS).write_text(garbage)
        result = build_only(out, *CARDS)
        assert "Nothing to build: all 2 files" in result.stderr
        # recorded again, beside whatever else was readable
        records = json.loads((out / BUILD_RECORDS).read_text())
        assert [len(record["jobs"]) for record in records.values() if record != nonsense] == [2]


# --- files saved while a build runs -----------------------------------------------------


def test_a_layout_saved_while_a_build_runs_has_its_files_made_again(source_copy, layouts_copy, tmp_path):
    from materials.jobs import Selection
    from materials.pipeline import build as run_build

    out = tmp_path / "out"
    stylesheet = layouts_copy / "wallet-card" / "wallet-card.css"
    original = stylesheet.read_text(encoding="utf-8")

    def save_the_stylesheet(number, total, result):
        if number == 1:  # one file made, one to go: the build has read the layouts as they were
            stylesheet.write_text(original + "\nh1 { letter-spacing: 0.4pt; }\n", encoding="utf-8")

    outcome = run_build(Selection(venues=("hotels",), products=("wallet-card",), variants=("office",)),
                        source_dir=source_copy, layouts_dir=layouts_copy, out_dir=out, progress=save_the_stylesheet)
    assert outcome.inputs_changed and not outcome.failed
    assert [entry["key"] for entry in read_manifest(out)] == ["", ""]  # neither is taken as built
    stylesheet.write_text(original, encoding="utf-8")  # back as the build found it: still made again
    result = run_cli("build", "--source", "source", "--layouts", layouts_copy, "--out", out, *CARDS)
    assert result.exit_code == 0, result.stderr
    assert "Built 2 files" in result.stderr and "Note:" not in result.stderr
    assert "Nothing to build: all 2 files" in run_cli(
        "build", "--source", "source", "--layouts", layouts_copy, "--out", out, *CARDS).stderr


def test_a_build_renders_the_source_as_it_hashed_it(source_copy, tmp_path, monkeypatch):
    from materials import keys
    from materials.jobs import Selection
    from materials.pipeline import build as run_build

    out = tmp_path / "out"
    venue = source_copy / "venues" / "hotels.yaml"
    original = venue.read_text(encoding="utf-8")
    edited = original.replace("Reception, housekeeping", "Reception, cleaning")
    read_files = keys.JobKeys.__init__
    saves = []

    def read_then_save(self, *args):
        read_files(self, *args)
        if not saves:  # a save lands just after the build has read and hashed the files
            saves.append(venue.write_text(edited, encoding="utf-8"))

    monkeypatch.setattr(keys.JobKeys, "__init__", read_then_save)
    outcome = run_build(Selection(venues=("hotels",), products=("handout",)), source_dir=source_copy,
                        layouts_dir=LAYOUTS_DIR, out_dir=out)
    monkeypatch.setattr(keys.JobKeys, "__init__", read_files)
    assert outcome.inputs_changed and not outcome.failed
    # The handouts print the file the keys were made from, not the one saved after.
    for name in ("handout-participant.pdf", "handout-trainer.pdf"):
        text = "".join(page.extract_text() for page in PdfReader(out / "hotels" / name).pages)
        assert "Reception, housekeeping" in text and "Reception, cleaning" not in text
    result = build_only(out, "--venue", "hotels", "--product", "handout")
    assert "Built 2 files" in result.stderr
    text = "".join(page.extract_text() for page in PdfReader(out / "hotels" / "handout-trainer.pdf").pages)
    assert "Reception, cleaning" in text


# --- the output folder follows the source (issue 18) ----------------------------------------------

def test_a_build_of_everything_removes_the_files_of_what_left_the_source(source_copy, tmp_path):
    """A venue, an area and a language taken out of the source take their
    files with them, each named on stderr; a file the build did not write,
    and one changed since it was built, stay."""
    for venue in source_copy.glob("venues/*.yaml"):
        if venue.stem not in ("hotels", "parks"):
            venue.unlink()
    (source_copy / "translations" / "ur.yaml").unlink()
    out = tmp_path / "out"
    for selection in (("--venue", "parks", "--product", "poster"),
                      ("--venue", "hotels", "--product", "wallet-card", "--area", "example-borough"),
                      ("--venue", "hotels", "--product", "wallet-card", "--lang", "cy")):
        assert run_cli("build", "--out", out, "--variant", "office", *selection).exit_code == 0
    (out / "parks" / "my-notes.pdf").write_bytes(b"%PDF- not the build's")
    with (out / "parks" / "poster-a4.pdf").open("ab") as edited:
        edited.write(b"\n% edited by hand\n")
    (source_copy / "venues" / "parks.yaml").unlink()
    (source_copy / "areas" / "example-borough.yaml").unlink()
    (source_copy / "translations" / "cy.yaml").unlink()

    filtered = run_cli("build", "--out", out, "--venue", "hotels", "--product", "poster", "--variant", "office")
    assert filtered.exit_code == 0, filtered.stderr
    assert "Removed" not in filtered.stderr and (out / "parks" / "poster-a3.pdf").is_file()

    result = run_cli("build", "--out", out)
    assert result.exit_code == 0, result.stderr
    removed = [line for line in result.stderr.splitlines() if line.startswith(("Removed", "Kept"))]
    assert removed == [
        "Removed example-borough/hotels/wallet-card.pdf: area no longer in source/areas",
        "Removed example-borough/hotels/wallet-cards-sheet-a4.pdf: area no longer in source/areas",
        "Removed hotels/wallet-card-cy.pdf: language no longer in source/translations",
        "Removed hotels/wallet-cards-sheet-a4-cy.pdf: language no longer in source/translations",
        "Removed parks/poster-a3.pdf: venue no longer in source/venues",
        "Kept parks/poster-a4.pdf, no longer listed (venue no longer in source/venues): it was changed after it "
        "was built; delete it yourself if it is not needed",
    ]
    pdfs = {name for name in files_under(out) if name.endswith(".pdf")}
    assert pdfs == {f"hotels/{fmt.filename}" for fmt in PRODUCT_FORMATS} | {"parks/my-notes.pdf",
                                                                             "parks/poster-a4.pdf"}
    assert not (out / "example-borough").exists()
    assert {entry["file"] for entry in read_manifest(out)} == {f"hotels/{fmt.filename}" for fmt in PRODUCT_FORMATS}
    catalogue = (out / "index.html").read_text(encoding="utf-8")
    assert "parks/" not in catalogue and "example-borough/" not in catalogue and "-cy.pdf" not in catalogue


def test_a_build_with_nothing_to_do_says_one_line_and_verbose_lists_the_files(source_copy, tmp_path, two_venues_build):
    out = copy_of(two_venues_build, tmp_path / "out")
    again = build("source", out)
    said = [line for line in again.stderr.splitlines() if not line.startswith("warning: ")]
    assert len(said) == 1, said
    assert re.fullmatch(rf"Nothing to build: all {FILES} files in {re.escape(str(out))}/ are up to date "
                        r"\(\d+\.\d s; --verbose lists them\)\.", said[0]), said
    listed = build("source", out, "--verbose")
    assert sorted(line.split("]")[1].strip() for line in listed.stderr.splitlines() if line.startswith("[")) == [
        f"{venue}/{fmt.filename}  unchanged" for venue in ("hotels", "parks")
        for fmt in sorted(PRODUCT_FORMATS, key=lambda fmt: fmt.filename)]


def test_a_build_saves_its_manifest_as_it_ends_not_after_every_file(tmp_path, monkeypatch):
    """Saving it after every file would cost a national build time in the
    square of its files; it is saved every few seconds, and as the build ends."""
    import materials.pipeline

    saves = []
    monkeypatch.setattr(materials.pipeline, "MANIFEST_SAVE_SECONDS", 3600.0)
    monkeypatch.setattr(materials.pipeline, "write_manifest",
                        lambda *args: saves.append(args) or write_manifest(*args))
    out = tmp_path / "out"
    result = run_cli("build", "--source", SOURCE_DIR, "--out", out, "--venue", "hotels", "--product", "wallet-card")
    assert result.exit_code == 0, result.stderr
    assert len(saves) == 1
    assert len(read_manifest(out)) == len([fmt for fmt in PRODUCT_FORMATS if fmt.kind == "wallet-card"])
