"""Every file that says PDF/UA-1 is PDF/UA-1 by an independent validator
(page-validation, the veraPDF rules), and its structure tree reads as printed:
lists as lists, running heads as artifacts, no empty elements, links that say
where they go, one copy of each card side on the sheet."""

from __future__ import annotations

import collections
import json
from pathlib import Path

import pikepdf
import pytest
from pypdf import PdfReader

from conftest import DRAFTS_AREA, SOURCE_DIR, read_manifest, run_cli
from materials.jobs import PRODUCT_FORMATS
from materials.preflight import PreflightReport, check_standard, pdf_ua_failures

UA_FORMATS = [fmt.key for fmt in PRODUCT_FORMATS if fmt.pdf_standard == "PDF/UA-1"]
OTHER_LANGUAGES = ["cy", "ur", "en-XA", "ar-XB"]


def validator_failures(path) -> list[str]:
    return pdf_ua_failures(path.read_bytes())


def kids(element) -> list:
    found = element.get("/K")
    if found is None:
        return []
    return list(found) if isinstance(found, pikepdf.Array) else [found]


def elements(pdf: pikepdf.Pdf):
    """Every structure element reachable from the root, in reading order."""
    stack = list(reversed(kids(pdf.Root.StructTreeRoot)))
    while stack:
        element = stack.pop()
        if isinstance(element, pikepdf.Dictionary) and "/S" in element:
            yield element
            stack.extend(reversed(kids(element)))


def marked_ids(page_object) -> list[int]:
    """The MCIDs a page's content marks, in drawing order."""
    return [int(operands[1].MCID) for operands, operator in pikepdf.parse_content_stream(page_object)
            if str(operator) == "BDC" and isinstance(operands[1], pikepdf.Dictionary) and "/MCID" in operands[1]]


def test_every_office_format_claims_pdf_ua_1_and_press_files_pdf_x_4():
    for fmt in PRODUCT_FORMATS:
        assert fmt.pdf_standard == ("PDF/X-4" if fmt.variant == "press" else "PDF/UA-1"), fmt.key


def test_every_file_that_claims_pdf_ua_1_passes_the_validator(full_build):
    manifest = json.loads((full_build.out / "manifest.json").read_text())
    claimed = [item for item in manifest["files"] if item["pdf_standard"] == "PDF/UA-1"]
    assert {Path(item["file"]).stem for item in claimed} == set(UA_FORMATS)
    failures = {item["file"]: validator_failures(full_build.out / item["file"]) for item in claimed}
    assert not {path: found for path, found in failures.items() if found}


def test_press_files_do_not_claim_pdf_ua_1(full_build):
    manifest = json.loads((full_build.out / "manifest.json").read_text())
    press = [item for item in manifest["files"] if item["variant"] == "press"]
    assert press and all(item["pdf_standard"] == "PDF/X-4" for item in press)


def test_other_languages_pass_the_validator(drafts_build, pseudo_build):
    """Every file claiming PDF/UA-1 of the Welsh and Urdu drafts (hotels, for
    an area: its QR code is a Figure too) and of the pseudo-locales (every
    venue's card, hotels' handouts). The posters in other languages are
    validated as every build makes them (test_translations.py)."""
    claimed = {}
    for out in (drafts_build, pseudo_build[0]):
        claimed |= {item["file"]: out / item["file"] for item in read_manifest(out)
                    if item["pdf_standard"] == "PDF/UA-1"}
    for language in OTHER_LANGUAGES:
        area = f"{DRAFTS_AREA}/" if language in ("cy", "ur") else ""
        assert f"{area}hotels/handout-participant-{language}.pdf" in claimed
    assert f"{DRAFTS_AREA}/hotels/wallet-card-ur.pdf" in claimed
    assert f"{DRAFTS_AREA}/hotels/wallet-card-en-XA.pdf" in claimed
    assert "hotels/wallet-cards-sheet-a4-ar-XB.pdf" in claimed
    failures = {name: validator_failures(path) for name, path in claimed.items()}
    assert not {name: found for name, found in failures.items() if found}


def test_the_validator_is_not_a_formality(full_build):
    """The check that keeps the claim honest fails a file that is not PDF/UA-1
    (a press file is tagged, but its XMP names no PDF/UA part)."""
    report = PreflightReport(1, 210, 297)
    office = next(fmt for fmt in PRODUCT_FORMATS if fmt.key == "poster-a4")
    check_standard(full_build.pdf("hotels", "poster-a4-press").read_bytes(), office, report)
    assert any("PDFUA1-ID-PART-001" in problem for problem in report.problems), report.problems
    report = PreflightReport(1, 210, 297)
    check_standard(full_build.pdf("hotels", "poster-a4").read_bytes(), office, report)
    assert not report.problems


@pytest.mark.parametrize("format_key", ["handout-trainer", "handout-participant", "poster-a3", "wallet-card"])
def test_lists_hold_items_and_items_hold_a_label_and_a_body(full_build, source, format_key):
    for venue in source.venues:
        with pikepdf.open(full_build.pdf(venue.id, format_key)) as pdf:
            found = collections.Counter()
            for element in elements(pdf):
                kinds = [str(kid.S) for kid in kids(element) if isinstance(kid, pikepdf.Dictionary) and "/S" in kid]
                if element.S == "/L":
                    found["lists"] += 1
                    assert set(kinds) <= {"/L", "/LI", "/Caption"}, (venue.id, kinds)
                    assert all(isinstance(kid, pikepdf.Dictionary) for kid in kids(element))
                if element.S == "/LI":
                    assert set(kinds) <= {"/Lbl", "/LBody"} and "/LBody" in kinds, (venue.id, kinds)
                if element.S in ("/Span", "/NonStruct", "/P", "/Div"):
                    assert kids(element), f"{venue.id}: an empty {element.S}"
            assert found["lists"] >= 1


@pytest.mark.parametrize("format_key", ["handout-trainer", "poster-a4", "wallet-card"])
def test_all_marked_content_is_in_the_tree_and_running_heads_are_artifacts(full_build, format_key):
    path = full_build.pdf("hotels", format_key)
    with pikepdf.open(path) as pdf:
        reached = {element.objgen for element in elements(pdf)}
        nums = pdf.Root.StructTreeRoot.ParentTree.Nums
        owners = {int(nums[i]): nums[i + 1] for i in range(0, len(nums), 2)}
        for index, page_object in enumerate(pdf.pages):
            mcids = marked_ids(page_object)
            assert len(mcids) == len(set(mcids))
            for mcid in mcids:
                owner = owners[int(page_object.StructParents)][mcid]
                assert owner.objgen in reached, f"page {index + 1}: MCID {mcid} is in no structure"
    if format_key == "handout-trainer":
        # The running footer (the organisation and its number) is printed on
        # every page after the cover, and is an artifact: it is not in the tree.
        reader = PdfReader(path)
        footer = reader.pages[2].extract_text().strip().splitlines()[-1]
        assert "/" in footer  # "Page 3 / 17"
        with pikepdf.open(path) as pdf:
            artifacts = sum(1 for operands, operator in pikepdf.parse_content_stream(pdf.pages[2])
                            if str(operator) == "BDC" and operands[0] == "/Artifact"
                            and operands[1].get("/Type") == "/Pagination")
        assert artifacts >= 1


def test_contents_links_are_printable_and_say_where_they_go(full_build):
    with pikepdf.open(full_build.pdf("hotels", "handout-trainer")) as pdf:
        links = [annotation for page_object in pdf.pages for annotation in page_object.get("/Annots", [])
                 if annotation.Subtype == "/Link"]
        assert len(links) >= 10
        assert all(int(link.F) & 4 for link in links)
        descriptions = {str(link.Contents) for link in links}
    assert {"Learning objectives", "The warning signs", "Case scenarios"} <= descriptions


def test_the_sheet_reads_each_card_side_once(full_build, source):
    venue = next(venue for venue in source.venues if venue.id == "hotels")
    with pikepdf.open(full_build.pdf("hotels", "wallet-cards-sheet-a4")) as pdf:
        figures = [element for element in elements(pdf) if element.S != "/Document"]
        assert [str(figure.S) for figure in figures] == ["/Figure", "/Figure"]
        for page_object in pdf.pages:
            assert marked_ids(page_object) == [0]  # one card side; the other nine are artifacts
        front, back = (str(figure.Alt) for figure in figures)
    assert venue.name in front
    card_text = " ".join(" ".join(text.split()) for text in
                         (page.extract_text() for page in PdfReader(full_build.pdf("hotels", "wallet-card")).pages))
    for word in ("999", "101"):
        assert word in front + back and word in card_text


def test_roster_products_pass_the_validator(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("name,organisation\nAisha Khan,Hotel One\nGareth Jones,Bus Co\n", encoding="utf-8")
    out = tmp_path / "out"
    for command in (["certificates", "--trainer", "Sam Lee", "--duration", "60"], ["sign-in"]):
        result = run_cli(*command, "--source", SOURCE_DIR, "--roster", roster, "--venue", "hotels",
                         "--date", "2026-11-25", "--out", out)
        assert result.exit_code == 0, result.stderr
    made = sorted(out.glob("*.pdf"))
    assert len(made) == 2
    assert {path.name: validator_failures(path) for path in made} == {path.name: [] for path in made}


def text_by_language(path, document_lang: str) -> dict[str, str]:
    """A PDF's text, by the /Lang of the marked content it is drawn in (the
    innermost that says one), else the document's."""
    found: dict[str, str] = collections.defaultdict(str)
    for page_object in PdfReader(path).pages:
        stack: list[str | None] = []

        def before(operator, operands, *_):
            if operator == b"BDC":
                properties = operands[1] if len(operands) > 1 and hasattr(operands[1], "get") else {}
                stack.append(str(properties["/Lang"]) if "/Lang" in properties else None)
            elif operator == b"BMC":
                stack.append(None)
            elif operator == b"EMC" and stack:
                stack.pop()

        def text(shown, *_):
            found[next((lang for lang in reversed(stack) if lang), document_lang)] += shown

        page_object.extract_text(visitor_operand_before=before, visitor_text=text)
    return {lang: " ".join(shown.split()) for lang, shown in found.items()}


@pytest.mark.parametrize("language", ["cy", "ur"])
def test_english_left_in_a_translation_is_marked_english(drafts_build, source, language):
    """What a draft translation leaves in English (new wording, say) is read
    with an English voice: its marked content says /Lang en-GB."""
    from materials.translate import edition

    english = edition(source, language).english_left
    by_language = text_by_language(drafts_build / DRAFTS_AREA / "hotels" / f"handout-participant-{language}.pdf",
                                   language)
    sentences = [text for text in english if len(text.split()) >= 6]
    printed = [text for text in sentences if text[:30] in " ".join(by_language.values())]
    assert len(printed) >= 10, printed
    marked = [text for text in printed if text[:30] in by_language.get("en-GB", "")]
    assert len(marked) >= 0.9 * len(printed), sorted(set(printed) - set(marked))
