"""Roster products of any size: certificates and sign-in sheets made in pieces
of bounded size on the worker pool, and joined into one file (or, for
certificates with `split`, written one file per attendee).

A piece is a job like any other (workers.make_pdf renders, fits and
preflights it, the PDF/UA-1 validator included), so a roster of 10,000
attendees takes 250 pieces of the time and memory of one, side by side on the
cores. Certificates are one page each: a piece is a run of attendees. A
sign-in sheet's rows are all as tall (layouts/sign-in/), so the rows a page
holds are measured once, on a probe layout of the sheet; then each piece is a
run of whole pages, numbering its rows and pages on from the piece before, and
the last page is filled with blank rows rather than left with one row alone.

The pieces' PDFs are joined in roster order (`join_pdfs`): their pages, and
their structure trees under one Document element, so the file stays tagged
(PDF/UA-1), and the joined file is validated again as it is written.
"""

from __future__ import annotations

import dataclasses
import io
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

from .jobs import Job, Session
from .roster import Attendee
from .write import atomic_write

if TYPE_CHECKING:
    from .model import Source
    from .workers import JobResult

# Certificates in one piece: about 4 s of one core, and a worker's layout of it
# (kept for the fit's tries) in tens of megabytes.
CERTIFICATES_PER_PIECE = 40
# Pages of a sign-in sheet in one piece (about 25 rows a page).
SIGN_IN_PAGES_PER_PIECE = 8
# A probe sheet of this many blank rows reaches its third page: the rows of its
# first page (under the session's details) and of a whole later page are counted.
PROBE_ROWS = 75


@dataclass
class Piece:
    """One job of a roster product: which rows of the roster it holds."""

    job: Job
    label: str                # "rows 2-41", for progress and problems; never a name
    rows: tuple[int, ...]     # the roster rows it holds (none for a blank sheet)
    pages: int                # the pages it must come to
    path: str | None = None   # its own file (split certificates), relative to the folder


@dataclass
class RosterOutcome:
    written: list[Path] = field(default_factory=list)
    pages: int = 0
    seconds: float = 0.0
    failed: list[tuple[Piece, list[str]]] = field(default_factory=list)  # pieces not made, and why

    @property
    def failed_rows(self) -> list[int]:
        return sorted(row for piece, _ in self.failed for row in piece.rows)


Progress = Callable[[int, int, Piece, "JobResult"], None]


def _span(rows: tuple[int, ...]) -> str:
    if not rows:
        return "blank rows"
    return f"row {rows[0]}" if len(rows) == 1 else f"rows {rows[0]}-{rows[-1]}"


# --- the pieces -----------------------------------------------------------------------

def certificate_pieces(venue_id: str, session: Session, split: bool, per_piece: int = CERTIFICATES_PER_PIECE,
                       ) -> list[Piece]:
    """One piece per `per_piece` attendees; with `split`, one per attendee,
    each its own file named by its row and name."""
    attendees = session.attendees
    if split:
        folder = Job(venue_id, "certificates", session).output_path.removesuffix(".pdf")
        width = len(str(max(attendee.row for attendee in attendees)))
        return [Piece(Job(venue_id, "certificates", dataclasses.replace(session, attendees=(attendee,))),
                      _span((attendee.row,)), (attendee.row,), 1,
                      f"{folder}/{split_file_name(attendee, width)}") for attendee in attendees]
    pieces = []
    for start in range(0, len(attendees), per_piece):
        chunk = attendees[start:start + per_piece]
        rows = tuple(attendee.row for attendee in chunk)
        pieces.append(Piece(Job(venue_id, "certificates", dataclasses.replace(session, attendees=chunk)),
                            _span(rows), rows, len(chunk)))
    return pieces


def sign_in_pieces(venue_id: str, session: Session, first_page_rows: int, page_rows: int,
                   pages_per_piece: int = SIGN_IN_PAGES_PER_PIECE) -> list[Piece]:
    """The sheet in pieces of whole pages, given the rows its first page and
    each later page hold. Its rows (the attendees', then the blank ones asked
    for) are made up with blank rows to fill the last page when they run past
    the first: a second page is never one row alone."""
    rows = len(session.attendees) + session.blank_rows
    if rows <= first_page_rows:
        pages = 1
    else:
        pages = 1 + -(-(rows - first_page_rows) // page_rows)
        rows = first_page_rows + (pages - 1) * page_rows
    pieces = []
    row = 0
    for first_page in range(1, pages + 1, pages_per_piece):
        last_page = min(first_page + pages_per_piece - 1, pages)
        capacity = sum(first_page_rows if page == 1 else page_rows for page in range(first_page, last_page + 1))
        chunk = session.attendees[row:row + capacity]
        blank = min(capacity, rows - row) - len(chunk)
        piece_session = dataclasses.replace(
            session, attendees=chunk, blank_rows=blank, first_row=row + 1, heading=first_page == 1,
            first_page=first_page, total_pages=pages if pages > 1 else None)
        roster_rows = tuple(attendee.row for attendee in chunk if attendee.row)
        label = f"pages {first_page}-{last_page}" if last_page > first_page else f"page {first_page}"
        pieces.append(Piece(Job(venue_id, "sign-in", piece_session), label, roster_rows, last_page - first_page + 1))
        row += len(chunk) + blank
    return pieces


def measure_sign_in(source: Source, layouts_dir: Path, venue_id: str, session: Session) -> tuple[int, int]:
    """The rows of a sign-in sheet's first page (under the session's
    details, which `session` gives) and of each later page: counted on a
    probe sheet of blank rows, laid out here."""
    from weasyprint.formatting_structure import boxes

    from .render import Renderer

    probe = dataclasses.replace(session, attendees=(), blank_rows=PROBE_ROWS, total_pages=None, first_row=1,
                                first_page=1, heading=True)
    document = Renderer(source, layouts_dir).render(Job(venue_id, "sign-in", probe)).document

    def rows(box) -> int:
        if isinstance(box, boxes.TableRowBox) and "row" in (box.element.get("class") or "").split():
            return 1
        return sum(rows(child) for child in getattr(box, "children", ()))

    counts = [rows(page._page_box) for page in document.pages]
    if len(counts) < 3:
        raise RuntimeError(f"the sign-in probe of {PROBE_ROWS} rows came to {len(counts)} pages, not 3 or more")
    return counts[0], counts[1]


# --- file names -------------------------------------------------------------------------

# Kept in a file name besides letters, marks and digits: the joiners some
# scripts spell names with (Devanagari, Persian).
NAME_JOINERS = {"\u200c", "\u200d"}
NAME_LENGTH = 60


def split_file_name(attendee: Attendee, width: int) -> str:
    """`0007-Zoë-Smith.pdf`: the attendee's roster row (padded, so the files
    sort in roster order), then their name with every character other than a
    letter, mark or digit (spaces, punctuation, slashes, dots, controls) as a
    hyphen: safe on every file system and in an email attachment."""
    name = unicodedata.normalize("NFC", attendee.name)
    kept = "".join(character if unicodedata.category(character)[0] in "LMN" or character in NAME_JOINERS else "-"
                   for character in name)
    safe = "-".join(part for part in kept.split("-") if part)[:NAME_LENGTH].strip("-")
    return f"{attendee.row:0{width}d}-{safe or 'attendee'}.pdf"


# --- joining ----------------------------------------------------------------------------

def join_pdfs(pieces: Iterator[bytes]) -> bytes:
    """One tagged PDF of the pieces' pages in order: each piece's structure
    elements go under the first piece's Document element, and its parent tree
    entries (and its pages' and annotations' keys into it) are numbered on
    from the pieces before. The document's catalogue (language, metadata,
    title) is the first piece's; outlines are left as the first piece has them."""
    import pikepdf
    from pikepdf import Array, Name

    joined = None
    for data in pieces:
        piece = pikepdf.open(io.BytesIO(data))
        if joined is None:
            joined = piece
            tree = joined.Root.StructTreeRoot
            document = tree.K if isinstance(tree.K, pikepdf.Dictionary) else tree.K[0]
            nums = list(tree.ParentTree.Nums)
            next_key = int(tree.get("/ParentTreeNextKey", max([int(n) for n in nums[::2]], default=-1) + 1))
            continue
        piece_tree = piece.Root.StructTreeRoot
        piece_document = piece_tree.K if isinstance(piece_tree.K, pikepdf.Dictionary) else piece_tree.K[0]
        kids = piece_document.get("/K")
        kids = [] if kids is None else list(kids) if isinstance(kids, Array) else [kids]
        piece_nums = list(piece_tree.ParentTree.Nums)
        # Cut the piece's elements from its own root before they are copied:
        # otherwise copying an element copies its whole tree again.
        for kid in kids:
            if isinstance(kid, pikepdf.Dictionary) and "/P" in kid:
                del kid["/P"]
        for page in piece.pages:
            if "/StructParents" in page.obj:
                page.obj.StructParents = int(page.obj.StructParents) + next_key
            for annotation in page.obj.get("/Annots") or []:
                if "/StructParent" in annotation:
                    annotation.StructParent = int(annotation.StructParent) + next_key
            del page.obj["/Parent"]
        for page in piece.pages:
            joined.pages.append(page)
        copied = joined.copy_foreign(Array(kids))
        for kid in copied:
            if isinstance(kid, pikepdf.Dictionary) and "/S" in kid:
                kid.P = document
        own = document.get("/K")
        own = [] if own is None else list(own) if isinstance(own, Array) else [own]
        document.K = Array(own + list(copied))
        values = joined.copy_foreign(Array(piece_nums[1::2]))
        for key, value in zip(piece_nums[::2], values):
            nums += [int(key) + next_key, value]
        next_key += int(piece_tree.get("/ParentTreeNextKey", max([int(n) for n in piece_nums[::2]], default=-1) + 1))
        piece.close()
    if joined is None:
        raise ValueError("nothing to join")
    tree = joined.Root.StructTreeRoot
    tree.ParentTree = joined.make_indirect(pikepdf.Dictionary(Nums=Array(nums)))
    tree.ParentTreeNextKey = next_key
    out = io.BytesIO()
    joined.save(out, deterministic_id=True, compress_streams=True,
                object_stream_mode=pikepdf.ObjectStreamMode.generate)
    joined.close()
    return out.getvalue()


# --- making the files ---------------------------------------------------------------------

def make_roster_files(source: Source, layouts_dir: Path, pieces: list[Piece], out_dir: Path, output_path: str,
                      workers: int, progress: Progress | None = None) -> RosterOutcome:
    """Render the pieces (on `workers` processes when there are several) and
    write them: each to its own file when it has a path, else all joined into
    `output_path`, in roster order. A piece that fails is left out, and
    listed in the outcome with its problems; the others are written."""
    from .preflight import PreflightReport, check_standard
    from .workers import render_all, require_harfbuzz_subset

    started = time.perf_counter()
    require_harfbuzz_subset()
    outcome = RosterOutcome()
    index = {piece.job: number for number, piece in enumerate(pieces)}
    made: dict[int, bytes | None] = {}  # pieces done, not yet joined (None: failed)
    joined: list[bytes] = []
    results = render_all([piece.job for piece in pieces], source, layouts_dir, workers, thumbnails=False)
    try:
        for count, result in enumerate(results, 1):
            piece = pieces[index[result.job]]
            problems = list(result.problems)
            if not problems and result.report.pages != piece.pages:
                problems.append(f"overset: {result.report.pages} pages where {piece.pages} were expected: "
                                "the content does not fit the layout")
            if problems:
                outcome.failed.append((piece, problems))
            elif piece.path:
                atomic_write(out_dir / piece.path, result.pdf)
                outcome.written.append(out_dir / piece.path)
                outcome.pages += result.report.pages
            else:
                made[index[result.job]] = result.pdf
                outcome.pages += result.report.pages
            if progress:
                progress(count, len(pieces), piece, result)
            result.pdf = None
            while len(joined) < len(pieces) and len(joined) in made or _failed_next(outcome, pieces, joined, made):
                joined.append(made.pop(len(joined), None))
    finally:
        if hasattr(results, "close"):
            results.close()
    outcome.failed.sort(key=lambda failure: index[failure[0].job])
    parts = [part for part in joined if part is not None]
    if parts and not pieces[0].path:
        pdf = parts[0] if len(parts) == 1 else join_pdfs(iter(parts))
        report = PreflightReport(outcome.pages, 0, 0)
        if len(parts) > 1:  # each piece passed; the file they make is checked too
            check_standard(pdf, pieces[0].job.product, report)
        if report.problems:
            outcome.failed = [(piece, report.problems) for piece in pieces]
            outcome.pages = 0
        else:
            atomic_write(out_dir / output_path, pdf)
            outcome.written.append(out_dir / output_path)
    outcome.seconds = time.perf_counter() - started
    return outcome


def _failed_next(outcome: RosterOutcome, pieces: list[Piece], joined: list, made: dict) -> bool:
    """The next piece to join has failed: it is passed over."""
    position = len(joined)
    return position < len(pieces) and position not in made and any(
        piece is pieces[position] for piece, _ in outcome.failed)
