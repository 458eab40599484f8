"""Translated editions (issue 6): translations by id with English fallback,
right-to-left layout, the draft notice, and pseudo-locales that every product
must survive."""

from __future__ import annotations

import datetime as dt
import io
import re

import numpy as np
import pypdfium2 as pdfium
import pytest
from fontTools.misc.timeTools import timestampSinceEpoch
from fontTools.ttLib import TTFont

from conftest import (DRAFTS_AREA, LAYOUTS_DIR, PSEUDO_CARDS_FOLDER, SOURCE_DIR, colour_mask, files_under,
                      page_texts, pdf_reader, pdf_text, printed, read_manifest, render_page, run_cli, shipped_source)
from materials.jobs import PRODUCT_FORMATS, Job
from materials.render import Renderer
from materials.translate import PSEUDO_LOCALES, edition, format_key

DRAFT = shipped_source().content.headings.draft_translation
PSEUDO = tuple(PSEUDO_LOCALES)


def write_translation(source_dir, tag: str, body: str) -> None:
    folder = source_dir / "translations"
    folder.mkdir(exist_ok=True)
    (folder / f"{tag}.yaml").write_text(body, encoding="utf-8")


SMALL_WELSH = """\
name: Cymraeg
english_name: Welsh
direction: ltr
content:
  headings:
    spot_the_signs: Sylwch ar yr arwyddion
venues:
  hotels:
    name: Gwestai
    signs:
      no-luggage-or-id:
        text: Dim bagiau na cherdyn adnabod
"""


# --- the shipped drafts ------------------------------------------------------------------

AREA = DRAFTS_AREA


@pytest.fixture
def shipped_drafts(drafts_build):
    """The area's folder of the session's build of the shipped drafts (see conftest)."""
    return drafts_build / AREA


def test_the_shipped_translations_are_drafts_of_welsh_and_urdu():
    translations = shipped_source().translations
    assert set(translations) >= {"cy", "ur"}
    assert translations["ur"].language.direction == "rtl"
    assert translations["cy"].language.draft and translations["ur"].language.draft


def test_a_default_build_leaves_drafts_out(full_build):
    """Unreviewed safeguarding text is made only when asked for by name."""
    assert not [name for name in files_under(full_build.out) if name.endswith(("-cy.pdf", "-ur.pdf"))]


@pytest.mark.parametrize("tag", ["cy", "ur"])
def test_fonts_instanced_from_variable_fonts_carry_the_documents_date(shipped_drafts, tag):
    """Noto Sans Arabic (and Noto Sans, for Welsh letters) are variable fonts:
    WeasyPrint instances them with fontTools, which stamps each font with the
    time now unless told a date. A file that changes with the clock is not
    reproducible: each font must carry the content's reviewed date."""
    reviewed = shipped_source().content.reviewed
    expected = timestampSinceEpoch(dt.datetime.combine(reviewed, dt.time(), dt.timezone.utc).timestamp())
    stamped = {}
    for page in pdf_reader(shipped_drafts / "hotels" / f"poster-a3-{tag}.pdf").pages:
        for font in page["/Resources"]["/Font"].values():
            descendant = font.get_object()["/DescendantFonts"][0].get_object()
            data = descendant["/FontDescriptor"].get_object()["/FontFile2"].get_object().get_data()
            stamped[str(font.get_object()["/BaseFont"]).split("+")[-1]] = TTFont(io.BytesIO(data))["head"].modified
    noto = {name: modified for name, modified in stamped.items() if name.startswith("Noto-Sans")}
    assert noto, f"no Noto Sans font in the {tag} poster: {sorted(stamped)}"
    assert set(noto.values()) == {expected}, noto


@pytest.mark.parametrize("tag", ["cy", "ur"])
@pytest.mark.parametrize("fmt", PRODUCT_FORMATS, ids=lambda fmt: fmt.key)
def test_a_draft_edition_is_named_for_its_language_and_says_not_to_hand_it_out_on_every_page(shipped_drafts, tag, fmt):
    path = shipped_drafts / "hotels" / f"{fmt.key}-{tag}.pdf"
    reader = pdf_reader(path)
    assert reader.trailer["/Root"]["/Lang"] == tag
    # A card has room for one notice line, the last: here the fictional area's.
    notice = shipped_source().content.headings.fictional_area if fmt.kind == "wallet-card" else DRAFT
    for number, text in enumerate(page_texts(path), 1):
        assert printed(notice, text), f"page {number} lacks the notice not to hand it out"
    if tag == "cy":
        # WeasyPrint's text layer maps shaped Arabic-script glyphs back to the
        # wrong letters, so Urdu wording cannot be checked by extracting it.
        translation = shipped_source().translations[tag].source
        assert printed(translation.content.headings.possible_signs if fmt.kind == "poster"
                       else translation.venue("hotels").name, pdf_text(path))


@pytest.mark.parametrize("edition", ["handout-participant", "handout-trainer"])
def test_a_draft_handouts_running_head_separates_its_two_notices(shipped_drafts, edition):
    """The running head is copied from the notice's text (string-set), which
    leaves generated content out: the separator must be in the text."""
    welsh = shipped_source().translations["cy"].source.content.headings.draft_translation
    assert welsh != DRAFT
    pages = page_texts(shipped_drafts / "hotels" / f"{edition}-cy.pdf")
    for number, text in enumerate(pages[1:], 2):
        assert printed(f"{welsh} · {DRAFT}", text), f"page {number}: {text[:120]!r}"


def test_the_manifest_records_each_edition(shipped_drafts):
    entries = {entry["file"]: entry for entry in read_manifest(shipped_drafts.parent)}
    assert entries[f"{AREA}/hotels/poster-a3-ur.pdf"]["lang"] == "ur"
    assert entries[f"{AREA}/hotels/poster-a3-ur.pdf"]["draft_translation"] is True


def test_welsh_letters_are_printed(shipped_drafts):
    """ŵ and ŷ, which Atkinson Hyperlegible lacks, come from the fallback face
    (preflight refuses a character no font has). The handout prints every core sign."""
    cy = shipped_source().translations["cy"].source
    welsh = [sign.text for sign in cy.content.signs if {"ŵ", "ŷ"} & set(sign.text)]
    assert welsh, "the Welsh draft should exercise ŵ or ŷ"
    text = pdf_text(shipped_drafts / "hotels" / "handout-participant-cy.pdf")
    for sign in welsh:
        assert printed(sign, text)


# --- right to left -------------------------------------------------------------------------

def kicker_centre_x(path) -> float:
    """Where the "spot the signs" label sits across the page (0 left, 1 right):
    the highlight colour's centre in the masthead (the top fifth)."""
    pixels, _ = render_page(path, 0, 30)
    top = pixels[:, : pixels.shape[1] // 5, :]
    columns = np.nonzero(colour_mask(top, "#FFD23F", 12).any(axis=0))[0]
    assert columns.size, f"no kicker found on {path.name}"
    return columns.mean() / top.shape[2]


def test_an_urdu_poster_is_mirrored(shipped_drafts, full_build):
    """The masthead's label sits at the right in Urdu, at the left in English."""
    assert kicker_centre_x(shipped_drafts / "hotels" / "poster-a3-ur.pdf") > 0.6
    assert kicker_centre_x(full_build.pdf("hotels", "poster-a3")) < 0.4


def digit_groups_x(path, page_index: int) -> dict[str, float]:
    """The left edge (points) of each run of digits printed on a page."""
    document = pdfium.PdfDocument(str(path))
    try:
        text_page = document[page_index].get_textpage()
        text = text_page.get_text_range()
        return {match.group(): text_page.get_charbox(match.start())[0] for match in re.finditer(r"\d+", text)}
    finally:
        document.close()


@pytest.mark.parametrize("tag", ["ur", "ar-XB"])
def test_phone_numbers_stay_left_to_right(shipped_drafts, pseudo_build, tag):
    """0808 800 5000 must not come out as 5000 800 0808 in a right-to-left line."""
    out = shipped_drafts if tag == "ur" else pseudo_build[0]
    groups = digit_groups_x(out / "hotels" / f"wallet-card-{tag}.pdf", 1)
    for number in ("0808 800 5000", shipped_source().organisation.phone):
        lefts = [groups[part] for part in number.split()]
        assert lefts == sorted(lefts), f"{number} is printed out of order"


def test_the_rtl_edition_sets_dir_on_the_page():
    renderer = Renderer(shipped_source(), LAYOUTS_DIR)
    for lang, direction in (("ur", "rtl"), ("ar-XB", "rtl"), ("cy", "ltr"), (None, "ltr")):
        root = renderer.render(Job("hotels", "wallet-card", lang=lang)).html_root
        assert root.get("dir") == direction
        assert root.get("lang") == (lang or "en-GB")


# --- pseudo-locales: every product must fit ------------------------------------------------

# The posters in both pseudo-locales are made (and so preflighted) by
# tests/test_poster_design.py, which measures them too: the rest here, in the
# session's pseudo-locale build (conftest.py, PSEUDO_BUILDS).


def test_every_product_passes_preflight_in_both_pseudo_locales(pseudo_build):
    out, results = pseudo_build
    for result in results:
        assert result.exit_code == 0, result.stderr
    cards = {f"{PSEUDO_CARDS_FOLDER[tag]}{venue.id}/{fmt.key}-{tag}.pdf" for venue in shipped_source().venues
             for tag in PSEUDO
             for fmt in PRODUCT_FORMATS if fmt.kind == "wallet-card" and fmt.variant == "office"}
    handouts = {f"hotels/{fmt.key}-{tag}.pdf" for tag in PSEUDO for fmt in PRODUCT_FORMATS if fmt.kind == "handout"}
    assert len(cards) == 2 * 2 * len(shipped_source().venues) and len(handouts) == 4
    assert files_under(out) - {"manifest.json"} >= cards | handouts


def test_pseudo_long_is_forty_percent_longer():
    english = shipped_source()
    long = edition(english, "en-XA").source
    for before, after in ((english.content.signs_caveat, long.content.signs_caveat),
                          (english.venue("hotels").headline, long.venue("hotels").headline)):
        assert len(after) >= 1.4 * len(before)
        assert after.startswith("[") and after.endswith("]")


def test_pseudo_locales_keep_numbers_and_addresses():
    for tag in PSEUDO:
        route = edition(shipped_source(), tag).source.content.routes
        nspcc = next(r for r in route if r.id == "nspcc-helpline")
        assert nspcc.number == "0808 800 5000"
        assert "help@nspcc.org.uk" in nspcc.note


# --- translation files: fallback, review and mistakes ---------------------------------------

def test_check_lists_what_is_left_in_english(source_copy):
    write_translation(source_copy, "cy", SMALL_WELSH)
    result = run_cli("check", "--no-render", "--source", "source", "--lang", "cy")
    assert result.exit_code == 0, result.stderr
    listed = {line.split("\t")[1] for line in result.stdout.splitlines()}
    assert "venues.hotels.signs.no-luggage-or-id.short" not in listed  # that sign has no short form
    assert "venues.hotels.signs.no-luggage-or-id.text" not in listed
    assert "content.headings.spot_the_signs" not in listed
    assert {"venues.hotels.headline", "content.headings.what_to_do", "content.signs_caveat"} <= listed
    assert "still in English" in result.stderr


def test_untranslated_wording_falls_back_to_english(source_copy, tmp_path):
    write_translation(source_copy, "cy", SMALL_WELSH)
    out = tmp_path / "out"
    result = run_cli("build", "--source", "source", "--out", out, "--venue", "hotels", "--lang", "cy",
                     "--product", "wallet-card", "--variant", "office")
    assert result.exit_code == 0, result.stderr
    text = pdf_text(out / "hotels" / "wallet-card-cy.pdf")
    assert printed("Gwestai", text) and printed("Dim bagiau na cherdyn adnabod", text)
    assert printed(shipped_source().content.signs_caveat, text)  # not translated: English
    assert printed(DRAFT, text)


def test_a_reviewed_translation_has_no_draft_notice_and_is_built_by_default(source_copy, tmp_path):
    write_translation(source_copy, "cy", SMALL_WELSH.replace(
        "direction: ltr\n", "direction: ltr\nreviewed_by: A. Reviewer\nreviewed: 2026-11-20\n"))
    out = tmp_path / "out"
    result = run_cli("build", "--source", "source", "--out", out, "--venue", "hotels", "--product", "wallet-card",
                     "--variant", "office")
    assert result.exit_code == 0, result.stderr
    assert {"hotels/wallet-card-cy.pdf", "hotels/wallet-card.pdf"} <= files_under(out)
    assert not printed(DRAFT, pdf_text(out / "hotels" / "wallet-card-cy.pdf"))


@pytest.mark.parametrize("body, where, message", [
    (SMALL_WELSH + "    signs_caveat: x\n", "13:5", "venues.hotels.signs_caveat: is not wording in the English source"),
    (SMALL_WELSH.replace("Gwestai", "[Gwestai, 2]"), "9:5", "venues.hotels.name: should be text"),
    (SMALL_WELSH + "    accent: \"#000000\"\n", "13:5", "venues.hotels.accent: is not wording in the English source"),
    (SMALL_WELSH.replace("direction: ltr", "direction: ltr\nreviewed_by: Someone"), "4:14",
     "reviewed_by: a reviewed translation names its reviewer and the date"),
    (SMALL_WELSH.replace("direction: ltr", "direction: sideways"), "3:12", "direction:"),
])
def test_translation_mistakes_name_file_line_and_key(source_copy, body, where, message):
    write_translation(source_copy, "cy", body)
    result = run_cli("check", "--no-render", "--source", "source")
    assert result.exit_code == 1
    assert f"source/translations/cy.yaml:{where}: {message}" in result.stderr, result.stderr


def test_an_unknown_language_is_a_usage_error(tmp_path):
    result = run_cli("build", "--source", SOURCE_DIR, "--out", tmp_path / "out", "--lang", "xx")
    assert result.exit_code == 2
    assert "unknown language xx" in result.stderr
    assert not (tmp_path / "out").exists()


def test_format_key_reads_like_the_file():
    assert format_key(("venues", "hotels", "signs", "no-luggage-or-id", "text")) == \
        "venues.hotels.signs.no-luggage-or-id.text"


def test_a_translated_venue_the_source_does_not_have_is_not_used(source_copy):
    """A copy of the source with fewer venues keeps working with the full translation."""
    (source_copy / "venues" / "parks.yaml").unlink()
    result = run_cli("check", "--no-render", "--source", "source", "--lang", "cy")
    assert result.exit_code == 0, result.stderr
    assert "venues.parks" not in result.stdout


def test_list_names_the_languages_and_says_which_are_drafts():
    result = run_cli("list", "--source", SOURCE_DIR)
    assert result.exit_code == 0
    assert "cy                 Welsh (draft: not for distribution)" in result.stdout
    assert "ar-XB" in result.stdout and "example-borough" in result.stdout


def test_check_takes_an_area():
    result = run_cli("check", "--source", SOURCE_DIR, "--area", "example-borough", "--venue", "hotels",
                     "--product", "wallet-card", "--variant", "office")
    assert result.exit_code == 0, result.stderr
    assert "All 2 files pass preflight" in result.stderr
