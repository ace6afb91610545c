"""Read articles from files and URLs into plain text that fact offsets can refer to.

Three input kinds are understood: plain text (kept verbatim apart from newline
normalization), Markdown (markup removed, one block per paragraph) and HTML (main
text found with trafilatura). Every problem a user can cause (a missing file, a
PDF, a page that 404s...) is raised as :class:`ArticleError` with a one-line
message naming the file or URL, so a batch run can report it and go on.
"""

from __future__ import annotations

import codecs
import hashlib
import html as html_lib
import os
import re
import socket
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, cast

from markdown_it import MarkdownIt
from markdown_it.token import Token

Kind = Literal["txt", "md", "html"]

SUFFIXES = {".txt", ".text", ".md", ".markdown", ".html", ".htm"}
_KIND_BY_SUFFIX: dict[str, Kind] = {
    ".txt": "txt",
    ".text": "txt",
    ".md": "md",
    ".markdown": "md",
    ".html": "html",
    ".htm": "html",
}
_EXPECTED = ".txt, .md or .html"

MAX_BYTES = 5 * 1024 * 1024
MAX_TITLE = 200
USER_AGENT = "diplograph/0.1"

_HTML_TYPES = {"text/html", "application/xhtml+xml"}
_URL_RE = re.compile(r"^https?://", re.IGNORECASE)
# Only the head of a page is searched: a charset declared further down is ignored by browsers too.
_META_CHARSET_RE = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_TITLE_RE = re.compile(r"<title[^>]*>(.*?)</title\s*>", re.IGNORECASE | re.DOTALL)
_FRONT_MATTER_RE = re.compile(r"\A---[ \t]*\n.*?\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)


@dataclass(frozen=True)
class Article:
    """One article: where it came from, its title and the text offsets refer to."""

    source: str
    title: str
    text: str

    @property
    def key(self) -> str:
        """Short stable id derived from the source only, so re-reading keeps the id."""
        return hashlib.sha256(self.source.encode("utf-8")).hexdigest()[:16]

    @property
    def content_hash(self) -> str:
        """Hash of the text, to notice when an article changed since it was last read."""
        return "sha256:" + hashlib.sha256(self.text.encode("utf-8")).hexdigest()


class ArticleError(Exception):
    """An input that cannot be read as an article; the message is one line for the user."""

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(f"{where}: {reason}")
        self.where = where
        self.reason = reason


# --------------------------------------------------------------------------- public API


def read_file(path: Path) -> Article:
    """Read a .txt, .md or .html file into an :class:`Article`."""
    path = Path(path)
    where = str(path)
    if not path.exists():
        raise ArticleError(where, "does not exist")
    if path.is_dir():
        raise ArticleError(where, "is a directory, not a file")
    if not path.is_file():
        raise ArticleError(where, "is not a regular file")
    suffix = path.suffix.lower()
    kind = _KIND_BY_SUFFIX.get(suffix)
    if kind is None:
        shown = f"'{path.suffix}'" if path.suffix else "(no extension)"
        raise ArticleError(where, f"unsupported file type {shown} (expected {_EXPECTED})")
    try:
        # Checked before reading so a huge file is never loaded into memory.
        if path.stat().st_size > MAX_BYTES:
            raise ArticleError(where, "is larger than 5 MB")
        data = path.read_bytes()
    except OSError as exc:
        raise ArticleError(where, f"cannot be read: {exc.strerror or exc}") from exc
    source = path.resolve().as_uri()
    text = _decode(data, where, html=kind == "html")
    return _build(text, source, kind, None, where)


def read_text(text: str, source: str, kind: str = "txt", title: str | None = None) -> Article:
    """Make an :class:`Article` from already decoded text of the given kind (txt, md, html)."""
    if kind not in ("txt", "md", "html"):
        raise ValueError(f"unknown kind {kind!r} (expected 'txt', 'md' or 'html')")
    return _build(text.removeprefix("\ufeff"), source, cast(Kind, kind), title, source)


def read_url(url: str, timeout: float = 20.0) -> Article:
    """Fetch an HTML (or plain text) page over http(s) and read it like a file."""
    if not _URL_RE.match(url):
        raise ArticleError(url, "is not an http(s) URL")
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            content_type = response.headers.get_content_type()
            if content_type in _HTML_TYPES:
                kind: Kind = "html"
            elif content_type == "text/plain":
                kind = "txt"
            else:
                raise ArticleError(url, f"is not an HTML page (content type '{content_type}')")
            # One byte more than allowed tells "exactly 5 MB" from "too large" without a
            # trusted Content-Length.
            data = response.read(MAX_BYTES + 1)
            final_url = response.geturl() or url
            charset = response.headers.get_content_charset()
    except urllib.error.HTTPError as exc:
        raise ArticleError(url, f"HTTP {exc.code} {exc.reason}".rstrip()) from exc
    except urllib.error.URLError as exc:
        raise ArticleError(url, _network_reason(exc.reason, timeout)) from exc
    except TimeoutError as exc:
        raise ArticleError(url, f"timed out after {timeout:g} s") from exc
    except OSError as exc:  # e.g. connection reset while reading the body
        raise ArticleError(url, _network_reason(exc, timeout)) from exc
    if len(data) > MAX_BYTES:
        raise ArticleError(url, "is larger than 5 MB")
    text = _decode(data, url, html=kind == "html", charset=charset)
    return _build(text, final_url, kind, None, url)


def iter_paths(paths: Iterable[str | Path]) -> Iterator[Path | ArticleError | str]:
    """Expand command-line inputs into files to read, URLs, and errors to report.

    Directories are searched recursively in sorted order for supported files,
    skipping hidden files and directories. An explicit file is yielded whatever
    its suffix so that :func:`read_file` can tell the user why it was refused
    instead of it being silently ignored.
    """
    for item in paths:
        if isinstance(item, str) and _URL_RE.match(item):
            yield item
            continue
        path = Path(item)
        if not path.exists():
            yield ArticleError(str(path), "does not exist")
        elif path.is_dir():
            found = False
            for entry in _walk(path):
                found = True
                yield entry
            if not found:
                yield ArticleError(str(path), f"no {_EXPECTED} files")
        else:
            yield path


def read_any(item: Path | str | ArticleError) -> Article:
    """Read one item from :func:`iter_paths`: a URL, a file, or re-raise its error."""
    if isinstance(item, ArticleError):
        raise item
    if isinstance(item, str) and _URL_RE.match(item):
        return read_url(item)
    return read_file(Path(item))


# --------------------------------------------------------------------------- helpers


def _walk(root: Path) -> Iterator[Path | ArticleError]:
    """Supported, non-hidden files under root in sorted order; unreadable dirs as errors."""
    errors: list[OSError] = []
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root, onerror=errors.append):
        # Pruning in place stops os.walk descending into .git, .venv and the like.
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in filenames:
            if not name.startswith(".") and Path(name).suffix.lower() in SUFFIXES:
                found.append(Path(dirpath, name))
    # Sorting by path components gives depth-first name order ("a/z" before "a-b"),
    # independent of the order the file system lists entries in.
    found.sort(key=lambda p: p.relative_to(root).parts)
    yield from found
    for err in errors:
        yield ArticleError(str(err.filename or root), f"cannot be read: {err.strerror or err}")


def _network_reason(reason: object, timeout: float) -> str:
    """Short reason for a failed connection, e.g. "cannot connect: Connection refused"."""
    if isinstance(reason, TimeoutError):
        return f"timed out after {timeout:g} s"
    if isinstance(reason, socket.gaierror):
        return f"cannot resolve host: {reason.strerror or reason}"
    if isinstance(reason, OSError):
        return f"cannot connect: {reason.strerror or reason}"
    return f"cannot connect: {reason}"


def _decode(data: bytes, where: str, *, html: bool, charset: str | None = None) -> str:
    """Decode UTF-8 bytes (or an HTML page's declared charset) with a clear error."""
    # NUL never occurs in text files; it is the cheapest reliable sign of a binary file.
    if b"\x00" in data:
        raise ArticleError(where, "is binary, not text")
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        utf8_error = exc
    if html:
        for declared in (charset, _declared_charset(data)):
            if declared and _codec_name(declared) not in (None, "utf-8"):
                try:
                    return data.decode(declared)
                except (UnicodeDecodeError, LookupError):
                    pass
    bad = utf8_error.object[utf8_error.start]
    raise ArticleError(where, f"is not valid UTF-8 (byte 0x{bad:02x} at offset {utf8_error.start})")


def _declared_charset(data: bytes) -> str | None:
    match = _META_CHARSET_RE.search(data[:4096])
    return match.group(1).decode("ascii") if match else None


def _codec_name(name: str) -> str | None:
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _build(text: str, source: str, kind: Kind, title: str | None, where: str) -> Article:
    """Turn decoded text of a kind into an Article; `where` names the input in errors."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise ArticleError(where, "is empty")
    if kind == "md":
        body, heading = _markdown_to_text(text)
        if not body.strip():
            raise ArticleError(where, "no article text found in the Markdown")
        found_title = heading
    elif kind == "html":
        body, found_title = _html_to_text(text)
        if not body:
            raise ArticleError(where, "no article text found in the HTML")
    else:
        body, found_title = text, None
    final_title = _clean_title(title or found_title or _first_line(body))
    return Article(source=source, title=final_title, text=body)


def _first_line(text: str) -> str:
    """The first line that reads like a headline, skipping breadcrumbs ('WORLD> Asia')."""
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    for line in lines[:5]:
        if not re.search(r"[>|»]", line):
            return line
    return lines[0] if lines else ""


def _clean_title(title: str) -> str:
    return " ".join(title.split())[:MAX_TITLE].rstrip()


# --------------------------------------------------------------------------- Markdown


def _markdown_to_text(text: str) -> tuple[str, str | None]:
    """Plain text of a Markdown document, one block per paragraph, and its first heading."""
    text = _FRONT_MATTER_RE.sub("", text, count=1)
    parser = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    blocks: list[str] = []
    title: str | None = None
    in_heading = False
    row: list[str] | None = None
    for token in parser.parse(text):
        if token.type == "heading_open":
            in_heading = True
        elif token.type == "heading_close":
            in_heading = False
        elif token.type == "tr_open":
            row = []
        elif token.type == "tr_close":
            if row and any(row):
                blocks.append(" | ".join(row))
            row = None
        elif token.type == "inline":
            content = _inline_text(token.children or []).strip()
            if row is not None:
                row.append(content)
            elif content:
                blocks.append(content)
                if in_heading and title is None:
                    title = content
        # Code blocks and raw HTML blocks are left out: they are not prose that facts
        # can be extracted from.
    return "\n\n".join(blocks), title


def _inline_text(tokens: list[Token]) -> str:
    """Text of inline tokens with markup dropped: links keep their text, images their alt."""
    parts: list[str] = []
    for token in tokens:
        if token.type in ("text", "text_special", "code_inline"):
            parts.append(token.content)
        elif token.type == "image":
            parts.append(_inline_text(token.children or []))
        elif token.type == "softbreak":
            # A wrapped source line is not a break in the sentence.
            parts.append(" ")
        elif token.type == "hardbreak":
            parts.append("\n")
    return "".join(parts)


# --------------------------------------------------------------------------- HTML


def _html_to_text(page: str) -> tuple[str, str | None]:
    """Main text of an HTML page with paragraphs separated by blank lines, and its title."""
    import trafilatura  # a fifth of a second to import: only when there is HTML to read

    extracted = trafilatura.extract(
        page, favor_precision=True, include_comments=False, include_tables=False
    )
    lines = [line.strip() for line in (extracted or "").split("\n")]
    body = "\n\n".join(line for line in lines if line)
    metadata = trafilatura.extract_metadata(page)
    title = metadata.title if metadata is not None else None
    if not title:
        match = _TITLE_RE.search(page)
        title = html_lib.unescape(match.group(1)) if match else None
    return body, title
