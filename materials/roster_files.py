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

The pieces' PDFs are joined in roster order as they come (`JoinedPdf`), one
piece in memory at a time: their pages, and their structure trees under one
Document element, so the file stays tagged (PDF/UA-1); a joined file of up to
1,000 pages is validated again as a whole.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import os
import struct
import tempfile
import time
import unicodedata
import zlib
from dataclasses import dataclass, field
from decimal import Decimal
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

def certificate_pieces(venue_id: str, session: Session, split: bool) -> list[Piece]:
    """One piece per CERTIFICATES_PER_PIECE attendees; with `split`, one per
    attendee, each its own file named by its row and name."""
    attendees = session.attendees
    per_piece = CERTIFICATES_PER_PIECE
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


def sign_in_pieces(venue_id: str, session: Session, first_page_rows: int, page_rows: int) -> list[Piece]:
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
    for first_page in range(1, pages + 1, SIGN_IN_PAGES_PER_PIECE):
        last_page = min(first_page + SIGN_IN_PAGES_PER_PIECE - 1, pages)
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
    from .workers import temporary_files_in

    def rows(box) -> int:
        if isinstance(box, boxes.TableRowBox) and "row" in (box.element.get("class") or "").split():
            return 1
        return sum(rows(child) for child in getattr(box, "children", ()))

    renderer = Renderer(source, layouts_dir)
    blank_rows = PROBE_ROWS
    with tempfile.TemporaryDirectory(prefix="make-materials-") as scratch, temporary_files_in(scratch):
        while True:
            probe = dataclasses.replace(session, attendees=(), blank_rows=blank_rows, total_pages=None, first_row=1,
                                        first_page=1, heading=True)
            rendered = renderer.render(Job(venue_id, "sign-in", probe)).document.pages
            counts = [rows(page._page_box) for page in rendered]
            if len(counts) >= 3:  # the second page is a whole one
                return counts[0], counts[1]
            blank_rows *= 2


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

# Objects (other than streams) in one object stream of a joined file.
OBJECTS_PER_STREAM = 200

class JoinedPdf:
    """One tagged PDF written from pieces, one piece in memory at a time: a
    10,000-page file held whole in pikepdf takes gigabytes (its structure
    tree alone is some 640,000 objects), this a piece's worth.

    Each piece's objects are copied as they are (streams still compressed),
    renumbered after the pieces before: its pages go into one page tree, the
    elements under its Document element under the joined file's one, and its
    parent tree entries (and its pages' and annotations' keys into it) are
    numbered on. The catalogue (language, metadata, outlines), the document
    information and the Document element's own entries are the first piece's:
    the pieces are one file's layout cut in runs of pages."""

    def __init__(self, file):
        self.file = file
        self.offsets: dict[int, int] = {}
        self.numbers = 0
        self.catalog, self.pages, self.tree, self.document, self.parent_tree, self.info = (
            self._reserve() for _ in range(6))
        self.page_numbers: list[int] = []
        self.kids: list[int] = []
        self.nums: list[bytes] = []
        self.next_key = 0
        self.first: dict[str, bytes] | None = None  # the first piece's catalogue, Document and information
        self.digest = hashlib.md5(usedforsecurity=False)
        self.position = 0
        self.batch: list[tuple[int, bytes]] = []  # objects for the next object stream
        self.compressed: dict[int, tuple[int, int]] = {}  # object -> (its object stream, its index there)

    def _reserve(self) -> int:
        self.numbers += 1
        return self.numbers

    def _write(self, data: bytes) -> None:
        self.file.write(data)
        self.digest.update(data)
        self.position += len(data)

    def _object(self, number: int, body: bytes, stream: bool = False) -> None:
        """Write object `number`: a stream as it is, any other into the next
        object stream (compressed: a structure element is mostly names)."""
        if not stream:
            self.batch.append((number, body))
            if len(self.batch) >= OBJECTS_PER_STREAM:
                self._flush()
            return
        self.offsets[number] = self.position
        self._write(b"%d 0 obj\n%s\nendobj\n" % (number, body))

    def _flush(self) -> None:
        if not self.batch:
            return
        number = self._reserve()
        header, bodies, offset = [], [], 0
        for index, (member, body) in enumerate(self.batch):
            header.append(b"%d %d" % (member, offset))
            bodies.append(body)
            offset += len(body) + 1
            self.compressed[member] = (number, index)
        head = b" ".join(header) + b"\n"
        data = zlib.compress(head + b"\n".join(bodies) + b"\n", 6)
        self.batch = []
        self._object(number, b"<< /Type /ObjStm /N %d /First %d /Filter /FlateDecode /Length %d >>\nstream\n%s"
                     b"\nendstream" % (len(header), len(head), len(data), data), stream=True)

    def add(self, data: bytes) -> None:
        import pikepdf

        with pikepdf.open(io.BytesIO(data)) as pdf:
            if self.first is None:
                self._write(b"%%PDF-%s\n%%\xe2\xe3\xcf\xd3\n" % pdf.pdf_version.encode())
            root = pdf.Root
            tree = root.StructTreeRoot
            document = tree.K if isinstance(tree.K, pikepdf.Dictionary) else tree.K[0]
            nums = list(tree.ParentTree.Nums)
            # The piece's own frame stands for the joined file's.
            mapping = {root.objgen: self.catalog, tree.objgen: self.tree, document.objgen: self.document,
                       tree.ParentTree.objgen: self.parent_tree, root.Pages.objgen: self.pages}
            starts = [page.obj for page in pdf.pages] + _kids(document) + nums[1::2]
            if self.first is None:
                starts += [value for key, value in root.items() if key not in ("/Pages", "/StructTreeRoot")]
                if "/Info" in pdf.trailer:
                    mapping[pdf.trailer.Info.objgen] = self.info
            copied = _reachable(starts, set(mapping), skip_keys={"/Parent"} | set())
            for objgen in copied:
                mapping[objgen] = self._reserve()
            offset = self.next_key
            pages = {page.obj.objgen for page in pdf.pages}
            for objgen, obj in copied.items():
                keyed = {}
                if objgen in pages:
                    keyed = {"/Parent": b"%d 0 R" % self.pages}
                    if "/StructParents" in obj:
                        keyed["/StructParents"] = b"%d" % (int(obj.StructParents) + offset)
                elif isinstance(obj, pikepdf.Dictionary) and "/StructParent" in obj and "/Subtype" in obj:
                    keyed = {"/StructParent": b"%d" % (int(obj.StructParent) + offset)}
                self._object(mapping[objgen], _serialise(obj, mapping, keyed), isinstance(obj, pikepdf.Stream))
            self.page_numbers += [mapping[page.obj.objgen] for page in pdf.pages]
            self.kids += [mapping[kid.objgen] for kid in _kids(document)]
            for key, value in zip(nums[::2], nums[1::2]):
                self.nums.append(b"%d %s" % (int(key) + offset, _serialise(value, mapping)))
            self.next_key += int(tree.get("/ParentTreeNextKey", max((int(key) for key in nums[::2]), default=-1) + 1))
            if self.first is None:
                self.first = {
                    "catalog": _serialise(root, mapping, {"/Pages": b"%d 0 R" % self.pages,
                                                          "/StructTreeRoot": b"%d 0 R" % self.tree}),
                    "document": _serialise(document, mapping, {"/K": None, "/P": b"%d 0 R" % self.tree}),
                    "tree": _serialise(tree, mapping, {"/K": b"[%d 0 R]" % self.document,
                                                       "/ParentTree": b"%d 0 R" % self.parent_tree,
                                                       "/ParentTreeNextKey": None}),
                    "info": _serialise(pdf.trailer.Info, mapping) if "/Info" in pdf.trailer else b"<< >>",
                }

    def finish(self) -> None:
        """The joined file's own objects, its cross-reference table and trailer."""
        if self.first is None:
            raise ValueError("nothing to join")
        references = b" ".join(b"%d 0 R" % number for number in self.page_numbers)
        self._object(self.pages, b"<< /Type /Pages /Count %d /Kids [%s] >>" % (len(self.page_numbers), references))
        kids = b" ".join(b"%d 0 R" % number for number in self.kids)
        self._object(self.document, self.first["document"][:-2] + b" /K [%s] >>" % kids)
        self._object(self.tree, self.first["tree"][:-2] + b" /ParentTreeNextKey %d >>" % self.next_key)
        self._object(self.parent_tree, b"<< /Nums [%s] >>" % b" ".join(self.nums))
        self._object(self.info, self.first["info"])
        self._object(self.catalog, self.first["catalog"])
        self._flush()
        identifier = self.digest.hexdigest().encode()
        xref = self._reserve()
        self.offsets[xref] = self.position
        rows = [struct.pack(">BIH", 0, 0, 0xFFFF)]
        for number in range(1, self.numbers + 1):
            if number in self.compressed:
                rows.append(struct.pack(">BIH", 2, *self.compressed[number]))
            else:
                rows.append(struct.pack(">BIH", 1, self.offsets[number], 0))
        data = zlib.compress(b"".join(rows), 6)
        self._write(b"%d 0 obj\n<< /Type /XRef /Size %d /W [1 4 2] /Root %d 0 R /Info %d 0 R /ID [<%s> <%s>] "
                    b"/Filter /FlateDecode /Length %d >>\nstream\n%s\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n"
                    % (xref, self.numbers + 1, self.catalog, self.info, identifier, identifier, len(data), data,
                       self.offsets[xref]))


def _kids(element) -> list:
    import pikepdf

    kids = element.get("/K")
    kids = [] if kids is None else list(kids) if isinstance(kids, pikepdf.Array) else [kids]
    return [kid for kid in kids if isinstance(kid, pikepdf.Dictionary) and kid.is_indirect]


def _reachable(starts: list, stop: set, skip_keys: set[str]) -> dict:
    """Every object of its own (indirect) reachable from `starts`, in the order
    met, without entering the objects in `stop` or a page's `skip_keys`."""
    import pikepdf

    found: dict = {}
    stack = list(reversed(starts))
    while stack:
        item = stack.pop()
        if not isinstance(item, pikepdf.Object) or not isinstance(item, (pikepdf.Dictionary, pikepdf.Array,
                                                                         pikepdf.Stream)):
            continue
        if item.is_indirect:
            if item.objgen in found or item.objgen in stop:
                continue
            found[item.objgen] = item
        if isinstance(item, pikepdf.Array):
            stack.extend(reversed(list(item)))
        else:
            is_page = item.get("/Type") == "/Page"
            stack.extend(reversed([value for key, value in item.items() if not (is_page and key in skip_keys)]))
    return found


def _serialise(obj, mapping: dict, keyed: dict | None = None, top: bool = True) -> bytes:
    """`obj` in PDF syntax, its references renumbered by `mapping` (a direct
    object written out in place); at the top, `keyed` replaces (or, with
    None, removes) entries of a dictionary. A stream keeps its encoded data."""
    import pikepdf

    if isinstance(obj, pikepdf.Object) and not top and obj.is_indirect and isinstance(
            obj, (pikepdf.Dictionary, pikepdf.Array, pikepdf.Stream)):
        return b"%d 0 R" % mapping[obj.objgen]
    if isinstance(obj, pikepdf.Array):
        return b"[" + b" ".join(_serialise(value, mapping, top=False) for value in obj) + b"]"
    if isinstance(obj, (pikepdf.Dictionary, pikepdf.Stream)):
        keyed = keyed or {}
        entries = [(key, keyed[key] if key in keyed else _serialise(value, mapping, top=False))
                   for key, value in obj.items() if not (key in keyed and keyed[key] is None)]
        entries += [(key, value) for key, value in keyed.items() if value is not None and key not in obj]
        if isinstance(obj, pikepdf.Stream):
            data = obj.read_raw_bytes()
            entries = [(key, value) for key, value in entries if key != "/Length"] + [("/Length", b"%d" % len(data))]
            body = b"<< " + b" ".join(pikepdf.Name(key).unparse() + b" " + value for key, value in entries) + b" >>"
            return body + b"\nstream\n" + data + b"\nendstream"
        return b"<< " + b" ".join(pikepdf.Name(key).unparse() + b" " + value for key, value in entries) + b" >>"
    if isinstance(obj, bool):
        return b"true" if obj else b"false"
    if isinstance(obj, int):
        return b"%d" % obj
    if isinstance(obj, Decimal):
        return format(obj, "f").encode()
    if obj is None:
        return b"null"
    return obj.unparse()


# --- making the files ---------------------------------------------------------------------

# Pages one set of worker processes makes before it is ended and another
# forked: a worker's memory grows as it lays out names (the fonts it holds at
# every size a fit tried), so no worker lives for more than about 1,000
# certificates, and a roster of any size takes the memory of that many.
PAGES_PER_POOL = 1000


def _rendered(pieces: list[Piece], source: Source, layouts_dir: Path, workers: int):
    """The pieces' results, as they are made, on workers forked afresh for
    each PAGES_PER_POOL pages (a single piece: here, in this process)."""
    from .workers import render_all

    batches, pages = [[]], 0
    for piece in pieces:
        if pages >= PAGES_PER_POOL:
            batches.append([])
            pages = 0
        batches[-1].append(piece)
        pages += piece.pages
    for batch in batches:
        results = render_all([piece.job for piece in batch], source, layouts_dir, workers, thumbnails=False)
        try:
            yield from results
        finally:
            if hasattr(results, "close"):
                results.close()


# A joined file of up to this many pages is validated again as a whole; the
# validator takes about 0.2 MB a page, so a longer one is its validated pieces,
# joined with their tags as they were.
VALIDATE_JOINED_PAGES = 1000


def make_roster_files(source: Source, layouts_dir: Path, pieces: list[Piece], out_dir: Path, output_path: str,
                      workers: int, progress: Progress | None = None) -> RosterOutcome:
    """Render the pieces (on `workers` processes when there are several) and
    write them: each to its own file when it has a path, else all joined, in
    roster order as they come, into `output_path`. A piece that fails is
    listed in the outcome with its problems; the other certificates are
    written, but a sign-in sheet is written whole or not at all."""
    from .preflight import PreflightReport, check_standard
    from .workers import require_harfbuzz_subset

    started = time.perf_counter()
    require_harfbuzz_subset()
    outcome = RosterOutcome()
    index = {piece.job: number for number, piece in enumerate(pieces)}
    split = bool(pieces[0].path)
    waiting: dict[int, bytes | None] = {}  # pieces done out of order (None: failed)
    joined = 0                              # pieces joined (or passed over) so far
    target = out_dir / output_path
    partial = None
    if not split:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, partial = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    results = _rendered(pieces, source, layouts_dir, workers)
    try:
        with (os.fdopen(handle, "wb") if partial else contextlib.nullcontext()) as file:
            writer = JoinedPdf(file) if file else None
            for count, result in enumerate(results, 1):
                piece = pieces[index[result.job]]
                problems = list(result.problems)
                if not problems and result.report.pages != piece.pages:
                    problems.append(f"overset: {result.report.pages} pages where {piece.pages} were expected: "
                                    "the content does not fit the layout")
                if problems:
                    outcome.failed.append((piece, problems))
                elif split:
                    atomic_write(out_dir / piece.path, result.pdf)
                    outcome.written.append(out_dir / piece.path)
                    outcome.pages += result.report.pages
                else:
                    outcome.pages += result.report.pages
                if not split:
                    waiting[index[result.job]] = None if problems else result.pdf
                    while joined in waiting:
                        data = waiting.pop(joined)
                        if data is not None:
                            writer.add(data)
                        joined += 1
                result.pdf = None
                if progress:
                    progress(count, len(pieces), piece, result)
            if writer and writer.first is not None:
                writer.finish()
                file.flush()
                os.fsync(file.fileno())
        outcome.failed.sort(key=lambda failure: index[failure[0].job])
        if partial and outcome.failed and pieces[0].job.product.kind == "sign-in":
            outcome.pages = 0  # a sheet with pages missing is no sheet: its rows would not follow on
        if partial and outcome.pages:
            report = PreflightReport(outcome.pages, 0, 0)
            if len(pieces) > 1 and outcome.pages <= VALIDATE_JOINED_PAGES:  # each piece passed; so must the whole
                check_standard(Path(partial).read_bytes(), pieces[0].job.product, report)
            if report.problems:
                outcome.failed = [(piece, report.problems) for piece in pieces]
                outcome.pages = 0
            else:
                os.chmod(partial, 0o644)
                os.replace(partial, target)
                partial = None
                outcome.written.append(target)
    finally:
        if hasattr(results, "close"):
            results.close()
        if partial:
            Path(partial).unlink(missing_ok=True)
    outcome.seconds = time.perf_counter() - started
    return outcome
