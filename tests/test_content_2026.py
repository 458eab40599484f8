"""Issue 22: the content brought up to date with the facts brief's "What changed
2023-2026" (shared/brief/facts.md, section 5).

Each test reads what is printed: the handouts of the session's full build of
the shipped source, or the loaded source for what the source itself must hold
(every reference's address, but for those the facts brief gives none).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import normalise, pdf_text, shipped_source
from materials.render import Renderer

CHANGED_VENUES = ("hotels", "taxi-ranks", "gyms", "leisure-centres")

# The s116 address exactly as facts.md gives it.
S116_ADDRESS = "legislation.gov.uk/ukpga/2014/12/part/9/crossheading/child-sexual-exploitation-at-hotels/enacted"

# References the facts brief names without a web address: none is printed until
# someone checks one (the project never invents an address). The client's own
# text has none by nature. A reference given an address leaves this list; a new
# reference without one fails the test below.
NO_ADDRESS_IN_FACTS_BRIEF = {
    "client-text", "working-together-2023", "duty-to-report-2026", "taxi-safeguarding-act-2022",
    "police-hotel-guidance", "crimestoppers-hotel-rental", "thurrock-council", "look-closer",
    "taxi-licensing-guidance", "parks-guidance", "nspcc-cpsu", "leisurewatch", "licensing-act-2003",
}


@pytest.fixture(scope="module")
def handouts(full_build) -> Path:
    """Every venue's handouts (both editions), from the session's build of the shipped source."""
    return full_build.out


def text(handouts: Path, venue: str, edition: str = "participant") -> str:
    """The handout's printed text, whitespace-normalised, a hyphen broken at a
    line's end joined again ("Anti-\\nsocial" reads "Anti-social")."""
    return normalise(pdf_text(handouts / venue / f"handout-{edition}.pdf").replace("-\n", "-"))


@pytest.mark.parametrize("edition", ["participant", "trainer"])
def test_the_hotels_handout_says_the_power_follows_an_inspectors_notice_and_covers_names_and_addresses(
        handouts, edition):
    printed = text(handouts, "hotels", edition)
    assert "police inspector" in printed
    assert "written notice on the hotel" in printed
    assert "guests’ names and addresses" in printed
    # The old wording overstated the power: any information, on belief alone.
    assert "information about its guests" not in printed
    assert S116_ADDRESS in printed.replace(" ", "")


def test_no_reference_lacks_an_address_but_those_the_facts_brief_gives_none_for():
    references = shipped_source().content.references
    ids = {ref.id for ref in references}
    assert "surrey-makesafe" not in ids, "Operation Makesafe is cited from Lancashire Police's page"
    without = {ref.id for ref in references if not ref.where}
    assert without <= NO_ADDRESS_IN_FACTS_BRIEF, (
        f"references without a web address: {sorted(without - NO_ADDRESS_IN_FACTS_BRIEF)}")
    by_id = {ref.id: ref for ref in references}
    assert by_id["asbcpa-2014-s116"].where == S116_ADDRESS
    assert by_id["lancashire-makesafe"].where == "lancashire.police.uk/operation-makesafe/"


def test_surrey_makesafe_is_cited_nowhere():
    source = shipped_source()
    cited = {*source.content.sources, *(ref for venue in source.venues for ref in venue.sources),
             *(note.source for venue in source.venues for note in venue.notes)}
    assert "surrey-makesafe" not in cited


def test_every_venue_cites_working_together_2023_as_statutory_guidance_for_england(handouts):
    source = shipped_source()
    for venue in source.venues:
        assert "working-together-2023" in {ref.id for ref in Renderer.cited_references(source.content, venue)}
        for edition in ("participant", "trainer"):
            printed = text(handouts, venue.id, edition)
            assert "Working Together to Safeguard Children 2023: statutory guidance for England" in printed, (
                venue.id, edition)
            assert "“harm outside the home”" in printed, (venue.id, edition)
            assert "people outside their family, in public places and online" in printed, (venue.id, edition)


def test_makesafe_is_explained_as_covering_sexual_and_criminal_exploitation(handouts):
    printed = text(handouts, "hotels", "trainer")
    assert "all forms of child exploitation, sexual and criminal" in printed


DUTY = "Crime and Policing Act 2026"


@pytest.mark.parametrize("venue, edition", [
    ("hotels", "trainer"), ("taxi-ranks", "trainer"),
    ("gyms", "participant"), ("gyms", "trainer"),
    ("leisure-centres", "participant"), ("leisure-centres", "trainer"),
])
def test_the_duty_to_report_is_explained_and_not_as_in_force(handouts, venue, edition):
    printed = text(handouts, venue, edition)
    # Who it will apply to, and what it asks.
    assert DUTY in printed
    assert "aged 18 or over in regulated roles with children in England" in printed
    # (Two needles: the sentence may cross a page, whose text comes out between them.)
    assert "will have to tell the police or the council when they are told about" in printed
    assert "child sexual abuse, or see it" in printed
    assert "Disclosure and Barring Service" in printed
    if venue in ("gyms", "leisure-centres"):
        assert "sports coaches, and instructors and volunteers in those roles" in printed
    # Not worded as the law now: said to be coming, its start not confirmed, and
    # every "in force" in the handout is "not yet in force".
    assert "not yet in force" in printed
    assert "has not been confirmed" in printed
    for found in re.finditer(r"in force", printed):
        if printed.startswith(" 31 July 2015", found.end()):
            continue  # the Modern Slavery Act's, in the law's history
        assert printed[max(0, found.start() - 8):found.start()] == "not yet ", printed[found.start() - 80:found.end()]
    assert "must tell the police" not in printed


@pytest.mark.parametrize("venue", ["hotels", "taxi-ranks"])
def test_the_duty_to_report_is_not_in_the_participant_handout_of_other_venues(handouts, venue):
    """It is for coaches and instructors: the other venues' participants are not told it applies to them."""
    assert "have to tell the police or the council" not in text(handouts, venue, "participant")


def test_the_taxi_handout_lists_the_licensing_team_action(handouts):
    for edition in ("participant", "trainer"):
        printed = text(handouts, "taxi-ranks", edition)
        at = printed.find("What you can do here")
        assert at != -1
        assert ("you can tell your own council’s licensing team, whichever council licensed the driver"
                in printed[at:]), edition
        assert "Taxis and Private Hire Vehicles (Safeguarding and Road Safety) Act 2022" in printed
