"""What happens when a job fails, when layouts misbehave, and when the source
holds something unexpected: failures stay contained, nothing unsafe is loaded,
and earlier good files survive."""

from __future__ import annotations

import pickle
import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from conftest import LAYOUTS_DIR, SOURCE_DIR, files_under, page_texts, pdf_text, printed, read_manifest, run_cli
from materials.jobs import PRODUCT_FORMATS
from materials.source import load_source

CARDS = ("--product", "wallet-card", "--variant", "office")
# The office card and its sheet: the press card is the same layout.
CARD_FORMATS = [fmt for fmt in PRODUCT_FORMATS if fmt.kind == "wallet-card" and fmt.variant == "office"]


def write_override(layouts: Path, product: str, venue_id: str, body: str) -> Path:
    """A venue's own layout for a product: layouts/<product>/venues/<venue>.html."""
    path = layouts / product / "venues" / f"{venue_id}.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body, encoding="utf-8")
    return path


def card_front_override(front_html: str) -> str:
    """A venue's own card front, a fixed-size region (data-fit) as the card's is."""
    return ('{% extends "wallet-card/wallet-card.html" %}{% block front %}'
            '<section class="side front" data-fit="card-side" data-fit-min="1">'
            f'<h1>{{{{ venue.name }}}}</h1>{front_html}</section>{{% endblock %}}')


def append_css(layouts: Path, css: str, stylesheet: str = "wallet-card/wallet-card.css") -> None:
    path = layouts / stylesheet
    path.write_text(path.read_text(encoding="utf-8") + "\n" + css + "\n", encoding="utf-8")


def build_cards(out: Path, *venues: str, layouts: Path | None = None):
    args = ["build", "--source", SOURCE_DIR, "--out", out, *CARDS]
    for venue in venues:
        args += ["--venue", venue]
    if layouts is not None:
        args += ["--layouts", layouts]
    return run_cli(*args)


# --- one failing job --------------------------------------------------------------------

def test_a_failing_job_keeps_its_earlier_file_and_the_others_are_built(tmp_path, layouts_copy, source):
    # parks is built before hotels and hostels after it (venues follow content.places)
    venues = ["hotels", "parks", "hostels"]
    order = [venue.id for venue in source.venues]
    assert order.index("parks") < order.index("hotels") < order.index("hostels")
    out = tmp_path / "out"
    first = build_cards(out, *venues)
    assert first.exit_code == 0, first.stderr
    # the wallet-card product: the card itself and the sheet of ten
    files = [f"{venue}/{fmt.filename}" for venue in venues for fmt in CARD_FORMATS]
    assert len(files) == 6
    before = {name: (out / name).read_bytes() for name in files}
    inodes = {name: (out / name).stat().st_ino for name in files}

    # hotels' card front overflows its fixed-size card
    write_override(layouts_copy, "wallet-card", "hotels", card_front_override("<p>long text</p>" * 40))
    result = build_cards(out, *venues, layouts=layouts_copy)

    assert result.exit_code == 1
    assert re.search(r"hotels/wallet-card\.pdf: overset: region \"card-side\" needs \d+\.\d mm, has 5\d\.\d mm", result.stderr), result.stderr
    problems = [line for line in result.stderr.splitlines() if "FAILED" in line or line.strip().startswith("error:")]
    failed = {name for name in files if any(f"{name}:" in line or line.endswith(f"FAILED {name}") for line in problems)}
    assert "hotels/wallet-card.pdf" in failed
    # only hotels' files fail (whether its sheet does too: see the next test)
    assert failed <= {"hotels/wallet-card.pdf", "hotels/wallet-cards-sheet-a4.pdf"}, failed
    assert problems and all(any(name in line for name in failed) for line in problems), problems
    assert f"Built {len(files) - len(failed)} files" in result.stderr
    for name in files:
        if name in failed:  # the earlier good file was left alone ...
            assert (out / name).read_bytes() == before[name], name
            assert (out / name).stat().st_ino == inodes[name], name
        else:  # ... and the others were written again (atomically: a new file took each one's place)
            assert (out / name).stat().st_ino != inodes[name], f"{name} was not rebuilt"
            assert len(PdfReader(out / name).pages) == 2
    assert {entry["file"] for entry in read_manifest(out)} == set(files)
    assert files_under(out) == {*files, "manifest.json"}
    assert not list(out.rglob("*.part")), "temporary files were left behind"


def test_a_card_that_does_not_fit_fails_on_the_sheet_too(tmp_path, layouts_copy):
    write_override(layouts_copy, "wallet-card", "hotels", card_front_override("<p>long text</p>" * 40))
    out = tmp_path / "out"
    result = build_cards(out, "hotels", layouts=layouts_copy)
    assert result.exit_code == 1
    assert "FAILED hotels/wallet-card.pdf" in result.stderr
    assert "FAILED hotels/wallet-cards-sheet-a4.pdf" in result.stderr, result.stderr
    assert not (out / "hotels" / "wallet-cards-sheet-a4.pdf").exists()


def test_a_sheet_slot_of_another_size_than_the_card_is_a_layout_error(tmp_path, layouts_copy):
    """The sheet draws the card's pages into its slots as they are: a slot that
    is not the card's size would put the cut lines in the wrong place."""
    append_css(layouts_copy, ".slot { width: 80mm; }", "wallet-card/wallet-cards-sheet.css")
    out = tmp_path / "out"
    result = build_cards(out, "hotels", layouts=layouts_copy)
    assert result.exit_code == 1
    assert ("hotels/wallet-cards-sheet-a4.pdf: layout error: a slot on sheet page 1 (80.00 x 57.18 mm) is not its "
            "card page (85.60 x 53.98 mm) with the same bleed on every side") in result.stderr, result.stderr
    assert (out / "hotels" / "wallet-card.pdf").is_file()
    assert not (out / "hotels" / "wallet-cards-sheet-a4.pdf").exists()


def test_check_reports_a_failing_job_without_writing(source_copy, tmp_path, layouts_copy):
    # one venue only, so that `check` (which renders everything) stays fast
    for path in (source_copy / "venues").glob("*.yaml"):
        if path.stem != "hotels":
            path.unlink()
    write_override(layouts_copy, "wallet-card", "hotels", card_front_override("<p>long text</p>" * 40))
    before = files_under(tmp_path)
    result = run_cli("check", "--source", "source", "--layouts", layouts_copy)
    assert result.exit_code == 1
    assert re.search(r"hotels/wallet-card\.pdf: overset: region \"card-side\" needs \d+\.\d mm, has 5\d\.\d mm", result.stderr), result.stderr
    # the card fails, and only hotels' card files can (whether the sheet does: see the test above)
    errors = [line.strip() for line in result.stderr.splitlines() if line.strip().startswith("error: ")]
    card_files = tuple(f"error: hotels/{fmt.filename}:" for fmt in PRODUCT_FORMATS if fmt.kind == "wallet-card")
    assert errors and all(line.startswith(card_files) for line in errors), errors
    failing = {line.split(":")[1].strip() for line in errors}
    assert f"{len(failing)} of {len(PRODUCT_FORMATS)} files would fail" in result.stderr
    assert files_under(tmp_path) == before, "check wrote files"


# --- venue overrides --------------------------------------------------------------------

def test_a_venue_override_layout_is_used_for_that_venue_only(tmp_path, layouts_copy, source):
    marker = "Override marker for the hotels card"
    write_override(layouts_copy, "wallet-card", "hotels",
                   card_front_override(f"<h1>{{{{ venue.name }}}}</h1><p>{marker}</p>"))
    out = tmp_path / "out"
    result = build_cards(out, "hotels", "parks", layouts=layouts_copy)
    assert result.exit_code == 0, result.stderr
    hotels_front, hotels_back = page_texts(out / "hotels" / "wallet-card.pdf")
    assert printed(marker, hotels_front)
    assert printed(source.venue("hotels").name, hotels_front)
    # the back block was not overridden: still the product's own
    assert printed(source.organisation.phone, hotels_back)
    # the sheet is ten of that card
    assert printed(marker, page_texts(out / "hotels" / "wallet-cards-sheet-a4.pdf")[0])
    parks_text = pdf_text(out / "parks" / "wallet-card.pdf")
    assert not printed(marker, parks_text)
    assert printed(source.venue("parks").name, parks_text)


# --- security: layouts may only load files inside layouts/ and the font package ------------

def _css_import(layouts: Path) -> str:
    """@import climbing out of layouts/ to /etc/passwd, however deep the copy is."""
    path = layouts / "wallet-card" / "wallet-card.css"
    climb = "../" * (len(path.parent.parts) - 1)
    text = path.read_text(encoding="utf-8")
    # @import must precede the other rules: put it right after the existing import
    path.write_text(text.replace('@import "../common/tokens.css";',
                                 f'@import "../common/tokens.css";\n@import "{climb}etc/passwd";', 1),
                    encoding="utf-8")
    assert f"{climb}etc/passwd" in path.read_text(encoding="utf-8")
    return "/etc/passwd"


def _css_absolute_url(layouts: Path) -> str:
    append_css(layouts, '.side { background: url("/etc/hostname"); }')
    return "/etc/hostname"


def _img_in_override(layouts: Path) -> str:
    write_override(layouts, "wallet-card", "hotels", card_front_override('<img src="file:///etc/hostname" alt="x">'))
    return "/etc/hostname"


def _css_remote_url(layouts: Path) -> str:
    append_css(layouts, '.side { background: url("http://127.0.0.1:9/tracker.png"); }')
    return "http://127.0.0.1:9/tracker.png"


def _symlink_out_of_layouts(layouts: Path) -> str:
    (layouts / "wallet-card" / "innocent.css").symlink_to("/etc/hostname")
    append_css(layouts, '.side { background: url("innocent.css"); }')
    return "innocent.css"


def _font_package_dotdot(layouts: Path) -> str:
    url = "fontpkg:atkinson-hyperlegible/" + "../" * 12 + "etc/passwd"
    append_css(layouts, f'@font-face {{ font-family: "Sneaky"; src: url("{url}"); }}\n'
                        '.caveat { font-family: "Sneaky", "Atkinson Hyperlegible"; }')
    return "outside the font package"


@pytest.mark.parametrize("attack", [_css_import, _css_absolute_url, _img_in_override, _css_remote_url,
                                    _symlink_out_of_layouts, _font_package_dotdot],
                         ids=["css-import-dotdot", "css-url-absolute", "img-file-url", "css-url-http", "symlink",
                              "font-package-dotdot"])
def test_layouts_cannot_load_files_outside_layouts(tmp_path, layouts_copy, attack):
    target = attack(layouts_copy)
    out = tmp_path / "out"
    result = build_cards(out, "hotels", layouts=layouts_copy)
    assert result.exit_code == 1
    assert "refused to load" in result.stderr
    assert target in result.stderr
    assert "hotels/wallet-card.pdf" in result.stderr
    assert not (out / "hotels" / "wallet-card.pdf").exists()


def test_a_css_warning_fails_the_job(tmp_path, layouts_copy):
    append_css(layouts_copy, ".side { colr: red; }")
    out = tmp_path / "out"
    result = build_cards(out, "hotels", layouts=layouts_copy)
    assert result.exit_code == 1
    assert "hotels/wallet-card.pdf" in result.stderr
    assert "colr: red" in result.stderr
    assert not (out / "hotels" / "wallet-card.pdf").exists()


@pytest.mark.parametrize("css, complaint", [
    (".caveat { font-size: 4pt; }", r"legibility: p\.caveat \".*\" is 4\.0 pt, below the 7 pt minimum"),
    ("@page { size: 90mm 55mm; }", r"page 1 measures 90\.00 x 55\.00 mm"),
], ids=["text-too-small", "wrong-page-size"])
def test_preflight_refuses_a_card_that_breaks_the_product_rules(tmp_path, layouts_copy, css, complaint):
    append_css(layouts_copy, css)
    out = tmp_path / "out"
    result = build_cards(out, "hotels", layouts=layouts_copy)
    assert result.exit_code == 1
    assert re.search(r"hotels/wallet-card\.pdf: .*" + complaint, result.stderr), result.stderr
    assert not (out / "hotels" / "wallet-card.pdf").exists()


def test_a_layout_error_fails_the_job_with_a_message(tmp_path, layouts_copy):
    write_override(layouts_copy, "wallet-card", "hotels", card_front_override("{{ venue.no_such_field }}"))
    out = tmp_path / "out"
    result = build_cards(out, "hotels", "parks", "hostels", layouts=layouts_copy)
    assert result.exit_code == 1
    assert "layout error" in result.stderr and "no_such_field" in result.stderr
    assert (out / "parks" / "wallet-card.pdf").is_file()
    assert (out / "hostels" / "wallet-card.pdf").is_file()
    assert not (out / "hotels" / "wallet-card.pdf").exists()


# --- the source -------------------------------------------------------------------------

def test_an_eleventh_venue_needs_only_a_yaml_file(source_copy, tmp_path):
    hotels = (source_copy / "venues" / "hotels.yaml").read_text(encoding="utf-8")
    headline = "Child sexual exploitation can happen in libraries. You can help stop it."
    libraries = re.sub(r"(?m)^name: .*$", "name: Libraries", hotels, count=1)
    libraries = re.sub(r"(?m)^headline: .*$", f"headline: {headline}", libraries, count=1)
    assert libraries.count("Libraries") == 1 and headline in libraries
    (source_copy / "venues" / "libraries.yaml").write_text(libraries, encoding="utf-8")

    listed = run_cli("list", "--source", "source")
    assert "libraries" in listed.stdout.split()

    out = tmp_path / "out"
    result = run_cli("build", "--source", "source", "--out", out, "--venue", "libraries",
                     "--product", "poster", "--product", "wallet-card")
    assert result.exit_code == 0, result.stderr
    posters = ("poster-a3", "poster-a4", "poster-a2-press", "poster-a3-press", "poster-a4-press")
    assert files_under(out) == {*(f"libraries/{name}.pdf" for name in posters), "libraries/wallet-card.pdf",
                                "libraries/wallet-card-press.pdf", "libraries/wallet-cards-sheet-a4.pdf",
                                "manifest.json"}
    for name in posters:
        poster = out / "libraries" / f"{name}.pdf"
        assert "Libraries" in PdfReader(poster).metadata.title
        assert printed(headline, pdf_text(poster))
    for name in ("wallet-card", "wallet-cards-sheet-a4"):
        front = page_texts(out / "libraries" / f"{name}.pdf")[0]
        assert printed("Libraries", front), name


@pytest.mark.parametrize("literal", ["<b>Bold & “quoted”</b>", "{{ 7 * 7 }} <script>alert(1)</script>"],
                         ids=["html", "jinja-and-script"])
def test_html_in_a_text_field_is_printed_as_text(source_copy, tmp_path, literal):
    venue = load_source(source_copy).venue("hotels")
    # a sign that is on the poster and, with no short wording, on the card too
    sign = next(sign for sign in venue.signs if sign.id in venue.card.signs and not sign.short)
    path = source_copy / "venues" / "hotels.yaml"
    text = path.read_text(encoding="utf-8")
    edited = text.replace(f"    text: {sign.text}\n", f"    text: '{literal}'\n", 1)
    assert edited != text
    path.write_text(edited, encoding="utf-8")
    edited_venue = load_source(source_copy).venue("hotels")
    assert next(s for s in edited_venue.signs if s.id == sign.id).text == literal

    # office files only: press posters are the same layout (and slow to make)
    out = tmp_path / "out"
    result = run_cli("build", "--source", "source", "--out", out, "--venue", "hotels",
                     "--product", "poster", "--product", "wallet-card", "--variant", "office")
    assert result.exit_code == 0, result.stderr
    assert printed(literal, page_texts(out / "hotels" / "wallet-card.pdf")[0])
    assert printed(literal, page_texts(out / "hotels" / "wallet-cards-sheet-a4.pdf")[0])
    # Poster type is large: a long word such as "<script>alert(1)</script>" may
    # break after its slash, so compare without the spaces.
    for poster in ("poster-a4.pdf", "poster-a3.pdf"):
        assert "".join(literal.split()) in "".join(pdf_text(out / "hotels" / poster).split()), poster


# --- safety: one build at a time, and no network ---------------------------------------------

def test_a_second_build_into_the_same_folder_stops_with_a_clear_message(tmp_path):
    from materials.write import output_lock

    out = tmp_path / "out"
    with output_lock(out):  # as a running build holds it
        result = run_cli("build", "--source", SOURCE_DIR, "--out", out, "--venue", "hotels",
                         "--product", "wallet-card")
    assert result.exit_code == 1
    assert f"another build is writing to {out}/" in result.stderr
    assert files_under(out) == set()
    # ... and once the first build is done, the next one runs.
    result = run_cli("build", "--source", SOURCE_DIR, "--out", out, "--venue", "hotels", "--product", "wallet-card")
    assert result.exit_code == 0, result.stderr


def test_a_build_never_opens_a_network_connection(tmp_path, monkeypatch):
    import socket

    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("network access during a build")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    result = run_cli("build", "--source", SOURCE_DIR, "--out", tmp_path / "out", "--venue", "taxi-ranks")
    assert result.exit_code == 0, result.stderr
    assert attempts == []


# --- a rendering process that dies (no_hang: see conftest.py) -------------------------

def kill_the_worker_making(monkeypatch, tmp_path, output_path: str) -> None:
    """The worker that starts `output_path` is killed as the out-of-memory
    killer would kill it, once: a worker the pool starts in its place, or the
    next build, makes it normally. Workers are forked, so they inherit this."""
    import os
    import signal

    from materials import workers

    parent, marker = os.getpid(), tmp_path / "killed-once"
    make_pdf = workers.make_pdf

    def make_pdf_or_die(renderer, job, thumbnail=False):
        if os.getpid() != parent and job.output_path == output_path and not marker.exists():
            marker.touch()
            os.kill(os.getpid(), signal.SIGKILL)
        return make_pdf(renderer, job, thumbnail)
    monkeypatch.setattr(workers, "make_pdf", make_pdf_or_die)


def test_a_worker_that_dies_fails_its_file_only_and_the_build_goes_on(tmp_path, monkeypatch, no_hang):
    out = tmp_path / "out"
    posters = ["build", "--source", SOURCE_DIR, "--out", out, "--venue", "hotels", "--venue", "parks",
               "--product", "poster", "--jobs", "2"]
    assert run_cli(*posters).exit_code == 0
    before = {entry["file"]: entry for entry in read_manifest(out)}
    earlier = (out / "hotels/poster-a2-press.pdf").read_bytes()
    # A venue's five posters are one task: the third dies with its worker, the
    # two after it have not started and must still be made.
    kill_the_worker_making(monkeypatch, tmp_path, "hotels/poster-a2-press.pdf")
    result = run_cli(*posters, "--force")
    assert result.exit_code == 1
    assert re.search(r"error: hotels/poster-a2-press\.pdf: the process making this file was killed \(SIGKILL: "
                     r"the system does this when it runs out of memory\) before the file was done; nothing was "
                     r"written for it\. Build again", result.stderr), result.stderr
    assert result.stderr.count("FAILED") == 1, result.stderr
    assert "Built 9 files" in result.stderr, result.stderr
    assert (out / "hotels/poster-a2-press.pdf").read_bytes() == earlier
    after = {entry["file"]: entry for entry in read_manifest(out)}
    assert after["hotels/poster-a2-press.pdf"] == before["hotels/poster-a2-press.pdf"]
    assert set(after) == set(before) and len(after) == 10


def test_a_kept_pool_replaces_a_worker_that_died(tmp_path, monkeypatch, source, no_hang):
    """As `watch` keeps its pool: the next build after a worker died has two workers again."""
    from materials.jobs import Selection, plan_jobs
    from materials.workers import RenderPool, WorkerInputs

    kill_the_worker_making(monkeypatch, tmp_path, "parks/wallet-card.pdf")
    jobs = plan_jobs(source, Selection(venues=("parks", "hotels"), products=("wallet-card",), variants=("office",)))
    inputs = WorkerInputs("source", pickle.dumps(source), LAYOUTS_DIR, "layouts")
    with RenderPool(2) as pool:
        pool.start()
        first = {result.job.output_path: result for result in pool.render(jobs, inputs, thumbnails=False)}
        second = {result.job.output_path: result for result in pool.render(jobs, inputs, thumbnails=False)}
        workers = [worker.process for worker in pool._pool._workers]
        assert len(workers) == 2 and all(process.is_alive() for process in workers)
    assert [name for name, result in first.items() if result.error] == ["parks/wallet-card.pdf"]
    assert "was killed (SIGKILL" in first["parks/wallet-card.pdf"].error
    assert len(first) == len(second) == len(jobs) == 4
    assert not [name for name, result in second.items() if result.error]
    assert all(not process.is_alive() for process in workers)


def test_a_kept_pool_after_a_build_stopped_part_way_or_a_worker_killed_while_idle(source, no_hang):
    """`watch` goes on with its pool after a build that stopped part way (a
    file it could not write): what that build's workers were still making must
    not be taken for the next build's files. A worker killed between builds
    costs nothing."""
    import os
    import signal

    from materials.jobs import Selection, plan_jobs
    from materials.workers import RenderPool, WorkerInputs

    inputs = WorkerInputs("source", pickle.dumps(source), LAYOUTS_DIR, "layouts")
    posters = plan_jobs(source, Selection(venues=("parks",), products=("poster",)))
    cards = plan_jobs(source, Selection(venues=("hotels",), products=("wallet-card",), variants=("office",)))
    with RenderPool(2) as pool:
        pool.start()
        stopped = pool.render(posters, inputs, thumbnails=False)
        next(stopped)
        stopped.close()  # four posters still being made
        assert sorted(result.job.output_path for result in pool.render(cards, inputs, thumbnails=False)) == [
            "hotels/wallet-card.pdf", "hotels/wallet-cards-sheet-a4.pdf"]
        idle = pool._pool._workers[0].process
        os.kill(idle.pid, signal.SIGKILL)
        idle.join()
        results = list(pool.render(cards + posters, inputs, thumbnails=False))
    assert sorted(result.job.output_path for result in results) == sorted(job.output_path for job in cards + posters)
    assert not [result.error for result in results if result.error]


def test_a_worker_started_mid_build_in_a_kept_pool_does_not_keep_the_output_folder_locked(
        tmp_path, monkeypatch, no_hang):
    """The new worker is forked while the build holds the output folder's
    lock; it lives on in watch's pool after the build, and must not hold the
    lock: a build from the command line into the folder would be refused."""
    from materials.jobs import Selection
    from materials.pipeline import build
    from materials.workers import RenderPool
    from materials.write import output_lock

    out = tmp_path / "out"
    kill_the_worker_making(monkeypatch, tmp_path, "hotels/poster-a3.pdf")
    with RenderPool(2) as pool:
        pool.start()
        result = build(Selection(venues=("hotels",), products=("poster",)), source_dir=SOURCE_DIR,
                       layouts_dir=LAYOUTS_DIR, out_dir=out, pool=pool)
        assert [failed.job.output_path for failed in result.failed] == ["hotels/poster-a3.pdf"]
        with output_lock(out):  # raises OutputBusy if a worker kept it
            pass


def test_a_fault_outside_a_files_own_checks_fails_that_file_with_a_plain_message(tmp_path, monkeypatch, no_hang):
    """Rendering problems are the file's own (see make_pdf); anything else
    raised in a worker (here: making the catalogue's picture) still fails
    only that file, says it is a fault of the program, and prints no traceback."""
    from materials import workers

    out = tmp_path / "out"
    posters = ["build", "--source", SOURCE_DIR, "--out", out, "--venue", "hotels", "--product", "poster",
               "--variant", "office", "--jobs", "2"]
    assert run_cli(*posters).exit_code == 0
    a4_poster_bytes = (out / "hotels/poster-a4.pdf").stat().st_size  # builds are reproducible: the same again
    thumbnail_png = workers.thumbnail_png

    def no_picture_of_the_a4_poster(pdf):
        if len(pdf) == a4_poster_bytes:
            raise RuntimeError("no picture")
        return thumbnail_png(pdf)
    monkeypatch.setattr(workers, "thumbnail_png", no_picture_of_the_a4_poster)
    result = run_cli(*posters, "--force")
    assert result.exit_code == 1
    assert ("error: hotels/poster-a4.pdf: this file could not be made: RuntimeError: no picture. Nothing was "
            "written for it. This is a fault in make-materials, not in your files") in result.stderr, result.stderr
    assert "Built 1 file" in result.stderr, result.stderr
