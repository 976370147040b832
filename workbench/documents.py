"""Document loaders: Markdown, plain text, HTML and PDF into (doc id, text) with stable offsets."""

from __future__ import annotations

import html.parser
from dataclasses import dataclass
from pathlib import Path

from .io import DataError, read_text


@dataclass(frozen=True)
class Document:
    id: str
    text: str
    path: str


class _TextExtractor(html.parser.HTMLParser):
    """Visible text of an HTML page, block elements separated by blank lines."""

    BLOCKS = {
        "p",
        "div",
        "section",
        "article",
        "li",
        "tr",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "br",
        "table",
    }

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n\n")
        if tag in ("td", "th"):
            self.parts.append(" | ")

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def html_to_text(source: str) -> str:
    parser = _TextExtractor()
    parser.feed(source)
    lines = [" ".join(line.split()) for line in "".join(parser.parts).splitlines()]
    text = "\n".join(lines)
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text.strip()


def pdf_to_text(path: Path) -> str:
    """Text of a PDF (pypdf), pages separated by blank lines; errors name the file and page."""
    import pypdf

    try:
        reader = pypdf.PdfReader(str(path))
        pages = []
        for n, page in enumerate(reader.pages, 1):
            try:
                pages.append(page.extract_text() or "")
            except Exception as exc:
                raise DataError(f"{path}: page {n}: cannot extract text ({exc})") from None
    except pypdf.errors.PdfReadError as exc:
        raise DataError(f"{path}: not a readable PDF ({exc})") from None
    text = "\n\n".join(p.strip() for p in pages if p.strip())
    if not text:
        raise DataError(f"{path}: no extractable text (a scanned PDF needs OCR first)")
    return text


def load_corpus(folder: str | Path) -> list[Document]:
    """Every .md, .txt, .html and .pdf file under `folder`; errors name the file (and line or page)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"documents folder not found: {folder}")
    docs = []
    for path in sorted(folder.rglob("*")):
        suffix = path.suffix.lower()
        if not path.is_file() or suffix not in (
            ".md",
            ".markdown",
            ".txt",
            ".html",
            ".htm",
            ".pdf",
        ):
            continue
        if suffix == ".pdf":
            docs.append(
                Document(
                    path.relative_to(folder).with_suffix("").as_posix(),
                    pdf_to_text(path),
                    str(path),
                )
            )
            continue
        text = read_text(path, "document")
        if "\x00" in text:
            line = text[: text.index("\x00")].count("\n") + 1
            raise DataError(f"{path}:{line}: contains a NUL byte; is this a binary file?")
        if suffix in (".html", ".htm"):
            text = html_to_text(text)
        if not text.strip():
            raise DataError(f"{path}: empty document")
        doc_id = path.relative_to(folder).with_suffix("").as_posix()
        docs.append(Document(doc_id, text, str(path)))
    if not docs:
        raise DataError(f"{folder}: no .md, .txt, .html or .pdf documents")
    return docs
