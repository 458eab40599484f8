"""Stage 4, last step: the structure tree WeasyPrint writes, made PDF/UA-1.

WeasyPrint 70 tags a document from its HTML, but an independent PDF/UA-1
validator (page-validation, the veraPDF rules) finds what it cannot express,
and this stage puts right, with pikepdf, in the written file:

- running heads and footers (page margin boxes) are marked content that no
  structure element reaches: they become pagination artifacts;
- list items hold their content in LBody (an LI held a P, a list held the text
  and the nested list that follow an item's first paragraph);
- structure elements with no content (an empty <span>, a box drawn by CSS) are
  taken out, so a screen reader meets no empty Span;
- links carry the Print flag and describe where they go (a section's heading,
  not its anchor's name);
- a language equal to the document's is dropped from the marked content that
  `text_layer` labels with its language.

Each fix is a rule on the tree's shape, not on one layout: a new layout gets
the same treatment, and `tests/test_accessibility.py` runs the validator over
every built file.
"""

from __future__ import annotations

import io

import pikepdf
from pikepdf import Array, Dictionary, Name, Pdf

# Structure types a list and a list item may hold (ISO 14289-1, 7.6; ISO 32000-1, 14.8.4.3.3).
LIST_KIDS = {"/L", "/LI", "/Caption"}
LIST_ITEM_KIDS = {"/Lbl", "/LBody"}
# Elements that group others without meaning of their own.
GROUPS = {"/Div", "/NonStruct"}
# Elements that are there only for what they hold: with nothing in them, they go.
CONTAINERS = {"/Span", "/NonStruct", "/Div", "/P", "/LBody", "/Lbl", "/Sect", "/Part"}


# --- after WeasyPrint writes: the structure tree ----------------------------------------

def _kids(element) -> list:
    kids = element.get("/K")
    if kids is None:
        return []
    return list(kids) if isinstance(kids, Array) else [kids]


def _is_element(item) -> bool:
    return isinstance(item, Dictionary) and "/S" in item


def _set_kids(element, kids: list) -> None:
    element.K = Array(kids)
    for kid in kids:
        if _is_element(kid):
            kid.P = element


class _Tree:
    """The document's structure tree and its parent tree, read once."""

    def __init__(self, pdf: Pdf):
        self.pdf = pdf
        self.root = pdf.Root.StructTreeRoot
        nums = list(self.root.ParentTree.Nums)
        # page index (its /StructParents) -> the element of each MCID
        self.marked = {int(nums[i]): nums[i + 1] for i in range(0, len(nums), 2) if isinstance(nums[i + 1], Array)}

    def elements(self):
        """Every element reachable from the root, parents before children."""
        stack = list(reversed(_kids(self.root)))
        while stack:
            element = stack.pop()
            if _is_element(element):
                yield element
                stack.extend(reversed(_kids(element)))

    def reachable_objgens(self) -> set:
        return {element.objgen for element in self.elements()}


def _new_element(pdf: Pdf, kind: str, parent, page=None):
    element = pdf.make_indirect(Dictionary(Type=Name.StructElem, S=Name(kind), K=Array(), P=parent))
    if page is not None:
        element.Pg = page
    return element


def _kind(item) -> str | None:
    return str(item.S) if _is_element(item) else None


def _body_of(tree: _Tree, item):
    """A list item's LBody, made when it has none."""
    body = next((kid for kid in _kids(item) if _kind(kid) == "/LBody"), None)
    if body is None:
        body = _new_element(tree.pdf, "/LBody", item, item.get("/Pg"))
        _set_kids(item, _kids(item) + [body])
    return body


def _adopt(tree: _Tree, parent, items: list) -> None:
    """`items` appended to `parent`'s kids; marked content moved directly (an
    MCID, not an element) is its new parent's in the parent tree too."""
    _set_kids(parent, _kids(parent) + items)
    for item in items:
        if isinstance(item, int) and "/Pg" in parent:
            owners = tree.marked.get(int(parent.Pg.get("/StructParents", -1)))
            if owners is not None and item < len(owners):
                owners[item] = parent


def _ungrouped(kids: list) -> list:
    """A list's kids with the groups that only hold items (HTML's <div> round
    a <dt> and its <dd>) replaced by the items."""
    found = []
    for kid in kids:
        grouped = _kids(kid) if _kind(kid) in GROUPS else []
        if grouped and all(_kind(item) in LIST_KIDS for item in grouped):
            found.extend(grouped)
        else:
            found.append(kid)
    return found


def _mend_lists(tree: _Tree) -> None:
    """L > LI > (Lbl, LBody): whatever else a list or an item holds goes into
    the LBody of the item it follows (the text and nested list after an
    item's first paragraph are that item's)."""
    for element in list(tree.elements()):
        kind = _kind(element)
        if kind == "/LI":
            kids = _kids(element)
            strays = [kid for kid in kids if _kind(kid) not in LIST_ITEM_KIDS]
            if strays:
                labels = [kid for kid in kids if _kind(kid) == "/Lbl"]
                bodies = [kid for kid in kids if _kind(kid) == "/LBody"]
                body = bodies[0] if bodies else _new_element(tree.pdf, "/LBody", element, element.get("/Pg"))
                _set_kids(element, labels + [body])
                _adopt(tree, body, strays)
        elif kind == "/L":
            kept: list = []
            for kid in _ungrouped(_kids(element)):
                if _kind(kid) == "/LI":
                    kept.append(kid)
                elif kept and _kind(kept[-1]) == "/LI":
                    _adopt(tree, _body_of(tree, kept[-1]), [kid])
                elif _kind(kid) in LIST_KIDS:
                    kept.append(kid)
                else:
                    item = _new_element(tree.pdf, "/LI", element, element.get("/Pg"))
                    _adopt(tree, _body_of(tree, item), [kid])
                    kept.append(item)
            _set_kids(element, kept)


def _drop_empty(tree: _Tree) -> None:
    """Elements with nothing in them (no marked content, no annotation, no
    element below) are taken out of their parents, innermost first."""
    changed = True
    while changed:
        changed = False
        for element in list(tree.elements()):
            kids = _kids(element)
            keep = [kid for kid in kids if not (_is_element(kid) and str(kid.S) in CONTAINERS and not _kids(kid))]
            if len(keep) != len(kids):
                _set_kids(element, keep)
                changed = True


def _orphan_content_to_artifacts(tree: _Tree, document_lang: str | None) -> None:
    """Marked content whose element no structure reaches (WeasyPrint tags the
    page margin boxes, then leaves them out of the tree) becomes a pagination
    artifact; a language equal to the document's is dropped from the rest."""
    reachable = tree.reachable_objgens()
    for index, page in enumerate(tree.pdf.pages):
        owners = tree.marked.get(int(page.obj.get("/StructParents", index)))
        if owners is None:
            continue
        instructions = pikepdf.parse_content_stream(page)
        changed = False
        rewritten = []
        for operands, operator in instructions:
            if str(operator) == "BDC" and isinstance(operands[1], Dictionary) and "/MCID" in operands[1]:
                properties = operands[1]
                mcid = int(properties.MCID)
                owner = owners[mcid] if mcid < len(owners) else None
                if owner is None or not isinstance(owner, Dictionary) or owner.objgen not in reachable:
                    operands = [Name.Artifact, Dictionary(Type=Name.Pagination)]
                    if mcid < len(owners):
                        owners[mcid] = None
                    changed = True
                elif "/Lang" in properties and str(properties.Lang) == document_lang:
                    del properties["/Lang"]
                    changed = True
            rewritten.append(pikepdf.ContentStreamInstruction(operands, operator))
        if changed:
            page.Contents = tree.pdf.make_stream(pikepdf.unparse_content_stream(rewritten))


def _describe_links(pdf: Pdf, headings: dict[str, str]) -> None:
    """Every link printable (the Print flag: PDF/UA and PDF/A ask for it) and
    described: an internal one by the heading it goes to, an address by itself."""
    for page in pdf.pages:
        for annotation in page.obj.get("/Annots", []):
            if annotation.get("/Subtype") != Name.Link:
                continue
            annotation.F = 4
            destination = annotation.get("/Dest")
            if destination is not None and str(destination) in headings:
                annotation.Contents = pikepdf.String(headings[str(destination)])


def _saved(pdf: Pdf) -> bytes:
    """The file's bytes, with an ID made from its content: the same input
    gives the same bytes."""
    out = io.BytesIO()
    pdf.save(out, deterministic_id=True, compress_streams=True)
    return out.getvalue()


def make_accessible(pdf_bytes: bytes, headings: dict[str, str]) -> bytes:
    """The written PDF with its structure tree mended (see the module's
    docstring). `headings`: each link target's id -> the heading found there."""
    with pikepdf.open(io.BytesIO(pdf_bytes)) as pdf:
        if "/StructTreeRoot" not in pdf.Root:
            return pdf_bytes
        document_lang = str(pdf.Root.Lang) if "/Lang" in pdf.Root else None
        tree = _Tree(pdf)
        _mend_lists(tree)
        _drop_empty(tree)
        _orphan_content_to_artifacts(tree, document_lang)
        _describe_links(pdf, headings)
        return _saved(pdf)


# --- a sheet of imposed cards ------------------------------------------------------------

MARKED_CONTENT_OPERATORS = {"BDC", "BMC", "EMC"}


def _unmarked(instructions) -> list:
    """A content stream's instructions with its marked-content operators taken out."""
    return [instruction for instruction in instructions if str(instruction.operator) not in MARKED_CONTENT_OPERATORS]


def _groups(instructions) -> list[list]:
    """A content stream's instructions in top-level runs: each q ... Q group
    one run, whatever lies between groups one run each."""
    groups: list[list] = []
    depth = 0
    for instruction in instructions:
        operator = str(instruction.operator)
        if depth == 0 and (operator == "q" or not groups or str(groups[-1][0].operator) == "q"):
            groups.append([])
        groups[-1].append(instruction)
        depth += {"q": 1, "Q": -1}.get(operator, 0)
    return groups


def _draws(group, names: set[str]) -> str | None:
    """The form of `names` a run of instructions draws, if any."""
    for instruction in group:
        if str(instruction.operator) == "Do" and str(instruction.operands[0]) in names:
            return str(instruction.operands[0])
    return None


def _wrapped(tag, properties, group) -> list:
    begin = pikepdf.ContentStreamInstruction([tag, properties], pikepdf.Operator("BDC")) if properties is not None \
        else pikepdf.ContentStreamInstruction([tag], pikepdf.Operator("BMC"))
    return [begin, *group, pikepdf.ContentStreamInstruction([], pikepdf.Operator("EMC"))]


def tag_imposed_sheet(pdf_bytes: bytes, forms: list[str], texts: list[str]) -> bytes:
    """A sheet of the same card placed many times (impose.py), tagged: on each
    sheet page the first copy of the card is a Figure whose alternate text is
    the card side's own text (`texts`, one per form in `forms`, the forms'
    resource names), and every other copy, the cut marks and the frame are
    artifacts. A screen reader reads each side once; the card's own file is
    the one to read it from in full."""
    with pikepdf.open(io.BytesIO(pdf_bytes)) as pdf:
        alt_text = {f"/{name}": text for name, text in zip(forms, texts)}
        resources = pdf.pages[0].obj.Resources
        for name in alt_text:
            form = resources.XObject[name]
            form.write(pikepdf.unparse_content_stream(_unmarked(pikepdf.parse_content_stream(form))))
        document = pdf.Root.StructTreeRoot.K[0] if isinstance(pdf.Root.StructTreeRoot.K, Array) \
            else pdf.Root.StructTreeRoot.K
        figures, nums = [], Array()
        for index, page in enumerate(pdf.pages):
            content, figure = [], None
            for group in _groups(_unmarked(pikepdf.parse_content_stream(page))):
                drawn = _draws(group, set(alt_text))
                if drawn and figure is None:
                    figure = pdf.make_indirect(Dictionary(
                        Type=Name.StructElem, S=Name.Figure, P=document, Pg=page.obj, K=0,
                        Alt=pikepdf.String(alt_text[drawn])))
                    content += _wrapped(Name.Figure, Dictionary(MCID=0), group)
                else:
                    content += _wrapped(Name.Artifact, None, group)
            page.Contents = pdf.make_stream(pikepdf.unparse_content_stream(content))
            page.obj.StructParents = index
            nums.extend([index, Array([figure] if figure is not None else [])])
            if figure is not None:
                figures.append(figure)
        document.K = Array(figures)
        pdf.Root.StructTreeRoot.ParentTree = pdf.make_indirect(Dictionary(Nums=nums))
        pdf.Root.StructTreeRoot.ParentTreeNextKey = len(pdf.pages)
        return _saved(pdf)
