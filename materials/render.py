"""Stage 4: a job becomes HTML (Jinja2), then a laid-out document (WeasyPrint).

One `Renderer` serves many jobs: it keeps one Jinja environment, one WeasyPrint
FontConfiguration, the parsed stylesheets and WeasyPrint's image cache, because
setting those up costs more than rendering a wallet card.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

import jinja2
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration

from .deck import deck, number_ranges, section_slides
from .errors import RenderError
from .fetch import ProjectFetcher
from .impose import form_name, impose, page_text, slots
from .jobs import Job, ProductFormat
from .model import Source
from .preflight import PdfFont, column_splits, pdf_fonts
from .pictograms import pictogram_svg
from .press import PRESS_PROFILE, crop_to_bleed, device_cmyk, forget_profiles, press_finisher
from .qr import address_parts, printed_address, qr_svg
from .tagging import make_accessible, tag_imposed_sheet
from .text_layer import install_text_mapping
from .text import long_date, no_widow, spaced
from .translate import ENGLISH, edition, format_key, model_keys

WEASYPRINT_LOGGER = logging.getLogger("weasyprint")
install_text_mapping()
FONT_SUFFIXES = {".ttf", ".otf", ".woff", ".woff2"}


class _Collector(logging.Handler):
    """Keeps WeasyPrint's warnings: an ignored CSS rule or a font that failed to
    load must fail the job, not pass silently into print."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record):
        self.messages.append(record.getMessage())


@dataclass(frozen=True)
class LocalReporting:
    """Where staff report locally: an area's children's services, or the
    organisation's contact (whose number may be left blank to write in)."""

    name: str
    number: str | None
    hours: str | None = None
    out_of_hours: object | None = None  # model.AreaContact
    web: str | None = None              # where to report online: printed with a QR code
    contact: object | None = None       # the source's item it is (for the layouts' data-source)


def fit_declarations(fit_scales: dict[str, float] | None) -> str:
    """The CSS variables that scale fit regions' text (`--fit-body: 0.9659;`):
    two layouts of a job with the same declarations are the same layout."""
    return "".join(f"--fit-{name}: {scale:.4f};" for name, scale in sorted((fit_scales or {}).items()))


@contextlib.contextmanager
def _source_date(day: dt.date):
    """SOURCE_DATE_EPOCH set to the document's own date (its PDF dates are the
    content's `reviewed:` date): WeasyPrint saves the fonts it instances from
    variable fonts (Noto Sans Arabic, for Urdu) with fontTools, which stamps
    each with the time now unless SOURCE_DATE_EPOCH is set."""
    previous = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = str(int(dt.datetime.combine(day, dt.time(), dt.timezone.utc).timestamp()))
    try:
        yield
    finally:
        if previous is None:
            del os.environ["SOURCE_DATE_EPOCH"]
        else:
            os.environ["SOURCE_DATE_EPOCH"] = previous


@dataclass
class Rendered:
    job: Job
    document: object   # weasyprint.Document
    html_root: object  # the parsed HTML (ElementTree), for structure checks
    html: str          # the markup it was laid out from
    fit_css: str = ""  # the fit declarations it was laid out with
    fit_scales: dict[str, float] = field(default_factory=dict)  # the scales they declare
    fonts: list[PdfFont] = field(default_factory=list)  # the PDF's fonts, once written


def mark_english(root, english: frozenset[str], document_lang: str) -> None:
    """In an edition that leaves some wording in English, that wording is
    marked lang="en-GB", so that a screen reader reads it with an English
    voice (and the PDF's marked content says /Lang en-GB): the innermost
    element whose whole text it is, or else the run of text it is (after a
    label in bold, say), in a span of its own."""
    english = english - {""}
    if not english:
        return
    for element in list(root.iter()):
        if not isinstance(element.tag, str) or element.get("lang", document_lang) != document_lang:
            continue
        if spaced("".join(element.itertext())) in english:
            if not any(spaced("".join(child.itertext())) in english for child in element):
                element.set("lang", ENGLISH.tag)
            continue
        if spaced(element.text) in english:
            element.insert(0, _english_span(element.text))
            element.text = None
        for index, child in reversed(list(enumerate(element))):
            if spaced(child.tail) in english:
                element.insert(index + 1, _english_span(child.tail))
                child.tail = None


def _english_span(text: str):
    span = ElementTree.Element("span", {"lang": ENGLISH.tag})
    span.text = text
    return span


HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}


def _pdf_options(product: ProductFormat) -> dict:
    """WeasyPrint's PDF options for a product: tagged, to its standard."""
    options = {"pdf_tags": True}
    if product.pdf_standard:
        options["pdf_variant"] = product.pdf_standard.lower()
    return options


def link_headings(root) -> dict[str, str]:
    """Each element with an id -> what a link to it is described by: the first
    heading inside it, else its own text."""
    found = {}
    for element in root.iter():
        anchor = element.get("id")
        if anchor:
            heading = next((child for child in element.iter() if child.tag in HEADINGS), element)
            found[anchor] = spaced("".join(heading.itertext()))
    return found


class Renderer:
    def __init__(self, source: Source, layouts_dir: Path):
        forget_profiles()  # a new renderer reads the layouts, the press profile among them, as they are now
        self.source = source
        self.layouts_dir = layouts_dir.resolve()
        self.fetcher = ProjectFetcher(self.layouts_dir, source.logos)
        self.font_config = FontConfiguration()
        self.image_cache: dict = {}
        # The fit found for each job: its regions' scales, the problems of the
        # regions that cannot fit and the warnings of those shrunk (fit.py).
        self.fits: dict[Job, tuple[dict[str, float], list[str], list[str]]] = {}
        self.column_splits: dict[tuple, dict[str, int]] = {}  # the last balanced splits, by Job.family
        self._recent: dict[tuple, Rendered] = {}  # the last two layouts made, by job and fit
        self._stylesheets: dict[str, tuple[CSS, dict, list[str]]] = {}
        # Each edition's source (kept, so that its id is not reused) and its models' keys: source_key_for.
        self._model_keys: dict[int, tuple[Source, dict]] = {}
        self.jinja = jinja2.Environment(
            loader=jinja2.FileSystemLoader(self.layouts_dir),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.jinja.filters["long_date"] = long_date
        self.jinja.filters["no_widow"] = no_widow
        self.jinja.filters["printed_address"] = printed_address
        self.jinja.filters["address_parts"] = address_parts
        self.jinja.globals["qr_code"] = qr_svg
        self.jinja.globals["pictogram_svg"] = pictogram_svg

    def take_source(self, source: Source) -> None:
        """Render from an edited source from now on, keeping what the layouts
        gave (templates, stylesheets, fonts): fits and layouts made from the
        old source are forgotten."""
        self.source = source
        self.fetcher.logos = source.logos
        # A logo's picture is cached by its name: an edited file has the same one.
        for url in [url for url in self.image_cache if isinstance(url, str) and url.startswith("logo:")]:
            del self.image_cache[url]
        self.fits.clear()
        self._recent.clear()
        self._model_keys.clear()

    def layout_for(self, template: str, venue_id: str) -> str:
        """The venue's own version of a product layout if it has one, else the layout."""
        venue_layout = f"{Path(template).parent}/venues/{venue_id}.html"
        return venue_layout if (self.layouts_dir / venue_layout).is_file() else template

    def template_for(self, job: Job) -> jinja2.Template:
        product = job.product
        if product.base_template:
            # A derived layout (the card sheet's frame) is not overridden: the
            # venue's own version of the product imposed on it is.
            return self.jinja.get_template(product.template)
        return self.jinja.get_template(self.layout_for(product.template, job.venue_id))

    def stylesheet(self, product: ProductFormat) -> tuple[CSS, dict, list[str]]:
        """The parsed stylesheet, its @color-profile rules (the PDF/X output
        intent) and the problems found parsing it: parsed once per process, its
        problems reported for every job that uses it."""
        if product.stylesheet not in self._stylesheets:
            path = self.layouts_dir / product.stylesheet
            self.fetcher.loaded.add(path.resolve())
            collector = _Collector()
            WEASYPRINT_LOGGER.addHandler(collector)
            self.fetcher.refused.clear()
            color_profiles: dict = {}
            try:
                css = CSS(filename=path, url_fetcher=self.fetcher, font_config=self.font_config,
                          color_profiles=color_profiles)
            finally:
                WEASYPRINT_LOGGER.removeHandler(collector)
            problems = [f"refused to load {url}" for url in self.fetcher.refused] + collector.messages
            self._stylesheets[product.stylesheet] = (css, color_profiles, problems)
        return self._stylesheets[product.stylesheet]

    def font_files(self) -> set[Path]:
        """The font files the layouts have loaded so far."""
        return {path for path in self.fetcher.loaded if path.suffix.lower() in FONT_SUFFIXES}

    def context(self, job: Job) -> dict:
        translation = edition(self.source, job.lang)
        source = translation.source
        content = source.content
        venue = source.venue(job.venue_id)
        product = job.product
        area = source.area(job.area_id) if job.area_id else None
        if area:
            local = LocalReporting(area.children_services.name, area.children_services.number,
                                   area.children_services.hours, area.out_of_hours, area.web,
                                   area.children_services)
        else:
            contact = source.organisation.local_contact
            local = LocalReporting(contact.name, contact.number, contact=contact)
        # The sender's logos, the organisation's and an area's council's, each
        # with its owner's name for its alt text.
        logos = [(source.organisation.logo, source.organisation.name), *([(area.logo, area.council)] if area else [])]
        # The workshop slides, as the deck prints them and the trainer's
        # session plan numbers them.
        slides = deck(content, source.workshop, venue)
        return {
            "language": translation.language,
            # On every page of a file that must not be handed out, in English for
            # whoever handles the files: a draft translation (in the language too,
            # when the translation gives it) and a fictional example area.
            "distribution_notice": self._distribution_notice(translation, area),
            "local": local,
            # Not in a press file: it is CMYK only, and a logo's colours are its own.
            "logos": [] if product.variant == "press" else [(logo, owner) for logo, owner in logos if logo],
            "content": content,
            "headings": content.headings,
            "organisation": source.organisation,
            "venue": venue,
            "product": product,
            # Press files are CMYK only: the accent goes through the output intent's profile.
            "accent": (device_cmyk(venue.accent, self.layouts_dir / PRESS_PROFILE)
                       if product.variant == "press" else venue.accent),
            # What is drawn on the accent (tokens.css and press.css: --on-accent),
            # for the pictograms, which SVG colours itself.
            "on_accent": "device-cmyk(0 0 0 0)" if product.variant == "press" else "#FFFFFF",
            # Items by id, so layouts can name the one they print.
            "actions": {item.id: item for item in content.actions},
            "routes": {route.id: route for route in content.routes},
            "references": {ref.id: ref for ref in content.references},
            "cited_references": self.cited_references(content, venue),
            "poster_signs": [venue.sign(sign_id, content) for sign_id in venue.poster.signs],
            "card_signs": [venue.sign(sign_id, content) for sign_id in venue.card.signs],
            "card_action": venue.action(venue.card.action),
            "workshop": source.workshop,
            "labels": source.workshop.labels,
            "edition": product.edition,
            "quiz": [*source.workshop.quiz, *venue.quiz],
            "workshop_sections": {section.id: section for section in source.workshop.sections},
            "deck": slides,
            # The numbers of a section's slides, as printed: "4–7, 9".
            "slide_numbers": lambda section: number_ranges(section_slides(slides, section)),
            "slide_count": lambda section: len(section_slides(slides, section)),
            "session": job.session,
            # The key of the text an element prints, for its data-source attribute.
            "source_key": self.source_key_for(source),
        }

    def source_key_for(self, source: Source):
        """`source_key(item, field)` for the layouts: the key (translate.format_key)
        of the text that field of an item of `source` (an edition's) holds, as
        `venues.hotels.signs.no-luggage-or-id.short`; empty for no item. Layouts
        mark each element that prints a text of the source with it
        (`data-source`), so that preflight names the text that does not fit
        by its file and line (fit.py). Attributes do not reach the PDF."""
        if id(source) not in self._model_keys:
            self._model_keys[id(source)] = (source, model_keys(source))
        keys = self._model_keys[id(source)][1]

        def source_key(item, field: str) -> str:
            if item is None or id(item) not in keys:
                return ""
            return format_key(keys[id(item)] + (field,))
        return source_key

    def _distribution_notice(self, translation, area) -> list[str]:
        """Its lines, the English last (a card has room for the last line only)."""
        headings = self.source.content.headings
        lines = []
        if translation.language.draft:
            translated = translation.source.content.headings.draft_translation
            lines += dict.fromkeys([translated, headings.draft_translation])  # once when untranslated
        if area is not None and area.fictional:
            lines.append(headings.fictional_area)
        return lines

    @staticmethod
    def cited_references(content, venue) -> list:
        """The references behind the core content and this venue, in reference order."""
        cited = {*content.sources, content.definition.source, *(law.source for law in content.laws),
                 *venue.sources, *(note.source for note in venue.notes if note.source)}
        return [ref for ref in content.references if ref.id in cited]

    def write_pdf(self, rendered: Rendered) -> bytes:
        """The PDF of a laid-out job, to its product's standard; the fonts
        written into it go to `rendered.fonts`, for preflight."""
        product = rendered.job.product
        press = press_finisher(product.bleed_mm, self.layouts_dir / PRESS_PROFILE) if product.variant == "press" else None

        def finish(document, pdf) -> None:
            crop_to_bleed(pdf, product.bleed_mm)
            if press:
                press(document, pdf)
            rendered.fonts = pdf_fonts(pdf)
        with _source_date(self.source.content.reviewed):
            pdf = rendered.document.write_pdf(finisher=finish, **_pdf_options(product))
        return make_accessible(pdf, link_headings(rendered.html_root))

    def write_imposed_pdf(self, frame: Rendered, imposed: Rendered) -> bytes:
        """The PDF of a sheet: the frame's pages, with the imposed product's
        pages drawn into the slots its layout marks (see impose.py), tagged as
        one copy of each side (see tagging.tag_imposed_sheet)."""
        placed = slots(frame.document, imposed.document.pages)
        frame_pages = len(frame.document.pages)
        heights = [page.height for page in frame.document.pages]
        combined = frame.document.copy(frame.document.pages + imposed.document.pages)

        def finish(document, pdf) -> None:
            impose(pdf, frame_pages, placed, heights)
            frame.fonts = pdf_fonts(pdf)
        with _source_date(self.source.content.reviewed):
            pdf = combined.write_pdf(finisher=finish, **_pdf_options(frame.job.product))
        pages = imposed.document.pages
        return tag_imposed_sheet(pdf, [form_name(index) for index in range(len(pages))],
                                 [page_text(page) for page in pages])

    def render(self, job: Job, fit_scales: dict[str, float] | None = None) -> Rendered:
        """Lay out one job, with fit regions' text scaled by `fit_scales`
        (region name -> scale, via the CSS variables --fit-<name>) and every
        list set in columns (`data-balance`) balanced: laid out once more when
        the split it was laid out with is not the balanced one.
        Raises RenderError naming what went wrong.

        The split tried first is the one found last for the job's family (a
        venue's poster sizes balance alike): the result never depends on it,
        only the number of layouts does."""
        key = (job, fit_declarations(fit_scales))
        if key in self._recent:
            return self._recent[key]
        rendered = self._layout(job, fit_scales, self.column_splits.get(job.family, {}))
        splits = column_splits(rendered.document)
        balanced = {name: split.balanced for name, split in splits.items()}
        if any(split.laid_out != split.balanced for split in splits.values()):
            rendered = self._layout(job, fit_scales, balanced)
        self.column_splits[job.family] = balanced
        self._remember(key, rendered)
        return rendered

    def level_columns(self, rendered: Rendered) -> Rendered:
        """A job's final layout: `rendered` (balanced, at its final fit) with
        the items of each list set in columns spaced out, so that both
        columns end level at the foot of the fit region that holds them: the
        room the fit leaves (less than a line of its text) is shared out,
        not left as a band below the list. Whether the job fits is as it was."""
        key = (rendered.job, rendered.fit_css, "level")
        if key in self._recent:
            return self._recent[key]
        splits = column_splits(rendered.document)
        spreads = {name: tuple(round(spread, 2) for spread in split.spreads) for name, split in splits.items()
                   if max(split.spreads) >= 0.5}  # half a pixel: rounding, not a difference
        if spreads:
            rendered = self._layout(rendered.job, rendered.fit_scales,
                                    {name: split.balanced for name, split in splits.items()}, spreads)
        self._remember(key, rendered)
        return rendered

    def _remember(self, key: tuple, rendered: Rendered) -> None:
        """Keep the last two layouts made: the card laid out for a sheet (then
        the sheet's frame) is the card's own file next."""
        self._recent = {**dict(list(self._recent.items())[-1:]), key: rendered}

    def _layout(self, job: Job, fit_scales: dict[str, float] | None, splits: dict[str, int],
                spreads: dict[str, tuple[float, float]] | None = None) -> Rendered:
        stylesheet, color_profiles, problems = self.stylesheet(job.product)
        collector = _Collector()
        WEASYPRINT_LOGGER.addHandler(collector)
        self.fetcher.refused.clear()
        try:
            try:
                html = self.template_for(job).render({**self.context(job), "column_splits": splits,
                                                      "column_spreads": spreads or {}})
            except jinja2.TemplateError as error:
                where = f"{error.filename}:{error.lineno}: " if getattr(error, "lineno", None) else ""
                raise RenderError(f"layout error: {where}{error}") from None
            template_dir = (self.layouts_dir / job.product.template).parent
            stylesheets = [stylesheet]
            declarations = fit_declarations(fit_scales)
            if declarations:
                stylesheets.append(CSS(string=f":root {{ {declarations} }}", font_config=self.font_config))
            html_document = HTML(string=html, base_url=template_dir.as_uri() + "/", url_fetcher=self.fetcher)
            translation = edition(self.source, job.lang)
            mark_english(html_document.etree_element, translation.english_left, translation.language.tag)
            document = html_document.render(
                font_config=self.font_config,
                color_profiles=dict(color_profiles),
                stylesheets=stylesheets,
                cache=self.image_cache,
                pdf_tags=True,
            )
        finally:
            WEASYPRINT_LOGGER.removeHandler(collector)
            # WeasyPrint keeps an image that failed to load as None and reports
            # it once: forgotten, it fails every job that uses it.
            for url in [url for url, image in self.image_cache.items() if image is None and isinstance(url, str)]:
                del self.image_cache[url]
        problems = problems + [f"refused to load {url}" for url in self.fetcher.refused] + collector.messages
        if problems:
            raise RenderError("; ".join(dict.fromkeys(problems)))
        return Rendered(job, document, html_document.etree_element, html, declarations, dict(fit_scales or {}))

