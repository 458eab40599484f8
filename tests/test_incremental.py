"""Incremental and parallel builds (issue 7, in part): only what changed is rebuilt."""

from __future__ import annotations

import shutil

from conftest import LAYOUTS_DIR, files_under, read_manifest, run_cli

TWO_VENUES = ("--venue", "hotels", "--venue", "parks")


def inodes(out):
    return {name: (out / name).stat().st_ino for name in files_under(out) if name.endswith(".pdf")}


def build(source, out, *extra):
    result = run_cli("build", "--source", source, "--out", out, *TWO_VENUES, *extra)
    assert result.exit_code == 0, result.stderr
    return result


def rebuilt(before, after):
    return {name for name in before if before[name] != after[name]}


def test_only_what_changed_is_rebuilt(source_copy, tmp_path):
    out = tmp_path / "out"
    build("source", out)
    first = inodes(out)
    assert len(first) == 18

    result = build("source", out)  # nothing changed
    assert "Built 0 files (0 pages), 18 unchanged" in result.stderr
    assert rebuilt(first, inodes(out)) == set()

    venue = source_copy / "venues" / "parks.yaml"
    venue.write_text(venue.read_text().replace("Park rangers", "Park wardens"))
    build("source", out)
    assert {name.split("/")[0] for name in rebuilt(first, inodes(out))} == {"parks"}
    assert len(rebuilt(first, inodes(out))) == 9

    second = inodes(out)
    build("source", out, "--force")
    assert rebuilt(second, inodes(out)) == set(second)


def test_a_layout_change_rebuilds_the_products_that_use_it(source_copy, tmp_path):
    layouts = tmp_path / "layouts"
    shutil.copytree(LAYOUTS_DIR, layouts)
    out = tmp_path / "out"
    build("source", out, "--layouts", layouts)
    first = inodes(out)
    stylesheet = layouts / "poster" / "poster.css"
    stylesheet.write_text(stylesheet.read_text() + "\n/* a designer's edit */\n")
    build("source", out, "--layouts", layouts)
    assert {name.rsplit("/", 1)[1] for name in rebuilt(first, inodes(out))} == {
        "poster-a3.pdf", "poster-a4.pdf", "poster-a2-press.pdf", "poster-a3-press.pdf", "poster-a4-press.pdf"}


def test_a_corrupt_manifest_only_costs_a_rebuild(source_copy, tmp_path):
    out = tmp_path / "out"
    build("source", out)
    (out / "manifest.json").write_text("{ not json")
    result = build("source", out)
    assert "18 unchanged" not in result.stderr
    assert len(read_manifest(out)) == 18


def test_parallel_and_serial_builds_give_the_same_bytes(source_copy, tmp_path):
    build("source", tmp_path / "serial", "--jobs", "1")
    build("source", tmp_path / "parallel", "--jobs", "2")
    serial = {entry["file"]: entry["sha256"] for entry in read_manifest(tmp_path / "serial")}
    parallel = {entry["file"]: entry["sha256"] for entry in read_manifest(tmp_path / "parallel")}
    assert serial == parallel and len(serial) == 18


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
