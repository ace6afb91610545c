"""Tests for extract.reader: what a user gets from files, directories and URLs."""

from __future__ import annotations

import functools
import http.server
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from extract.reader import (
    SUFFIXES,
    Article,
    ArticleError,
    iter_paths,
    read_any,
    read_file,
    read_text,
    read_url,
)

PARAGRAPHS = [
    "Chile formally joined the Organisation for Economic Co-operation and Development "
    "on 7 May 2010, becoming the first country in South America to be admitted to the "
    "Paris-based club of industrialised economies.",
    "Finance minister Felipe Larraín said the accession rewarded two decades of steady "
    "reforms and would push Santiago to keep improving its tax, education and "
    "environmental policies.",
    "Officials in Paris noted that Chile had completed a review by more than twenty OECD "
    "committees before the member states invited it to sign the accession agreement in "
    "January 2010.",
]
HEADLINE = "Chile becomes the first South American member of the OECD"

NEWS_PAGE = f"""<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Chile joins the OECD | World Desk</title></head>
<body>
<div class="cookie-banner" id="cookie-consent">
  <p>We use cookies to improve your experience. Accept all cookies or manage preferences.</p>
  <button>Accept</button>
</div>
<header>
  <a href="/">World Desk</a>
  <nav><ul>
    <li><a href="/politics">Politics</a></li>
    <li><a href="/economy">Economy</a></li>
    <li><a href="/subscribe">Subscribe today</a></li>
  </ul></nav>
</header>
<main>
<article>
  <h1>{HEADLINE}</h1>
  <p>{PARAGRAPHS[0]}</p>
  <p>{PARAGRAPHS[1]}</p>
  <p>{PARAGRAPHS[2]}</p>
</article>
<div class="share">
  <p>Share this post</p>
  <a href="#">Share on Twitter</a> <a href="#">Share on Facebook</a>
</div>
</main>
<footer><p>© 2024 World Desk. All rights reserved. Contact us | Privacy policy</p></footer>
</body>
</html>
"""

EMPTY_PAGE = (
    "<html><head><title>Nothing here</title></head>"
    "<body><script>var a = 1;</script><div></div></body></html>"
)


def write(path: Path, content: str | bytes) -> Path:
    """Create a file (and its parent directories) with the given content."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def error_of(path: Path) -> ArticleError:
    """The ArticleError read_file raises for path, checking it is one line naming the file."""
    with pytest.raises(ArticleError) as info:
        read_file(path)
    message = str(info.value)
    assert path.name in message
    assert "\n" not in message
    assert info.value.where == str(path)
    return info.value


# --------------------------------------------------------------------------- file errors


def test_missing_file(tmp_path: Path) -> None:
    err = error_of(tmp_path / "nowhere.txt")
    assert str(err) == f"{tmp_path / 'nowhere.txt'}: does not exist"
    assert err.reason == "does not exist"


def test_unsupported_suffix(tmp_path: Path) -> None:
    err = error_of(write(tmp_path / "report.pdf", "%PDF-1.4 not really"))
    assert err.reason == "unsupported file type '.pdf' (expected .txt, .md or .html)"


def test_directory_given_to_read_file(tmp_path: Path) -> None:
    folder = tmp_path / "folder.txt"
    folder.mkdir()
    assert "is a directory" in error_of(folder).reason


def test_empty_and_whitespace_only(tmp_path: Path) -> None:
    assert error_of(write(tmp_path / "empty.txt", "")).reason == "is empty"
    assert error_of(write(tmp_path / "blank.md", " \n\t\r\n  ")).reason == "is empty"
    assert error_of(write(tmp_path / "bom.txt", b"\xef\xbb\xbf\n")).reason == "is empty"


def test_binary_file(tmp_path: Path) -> None:
    err = error_of(write(tmp_path / "photo.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"))
    assert err.reason == "is binary, not text"


def test_not_utf8_names_byte_and_offset(tmp_path: Path) -> None:
    err = error_of(write(tmp_path / "latin1.txt", "Café au lait".encode("latin-1")))
    assert err.reason == "is not valid UTF-8 (byte 0xe9 at offset 3)"


def test_too_large(tmp_path: Path) -> None:
    big = write(tmp_path / "huge.txt", b"a" * (5 * 1024 * 1024 + 1))
    assert error_of(big).reason == "is larger than 5 MB"


def test_exactly_5_mb_is_accepted(tmp_path: Path) -> None:
    article = read_file(write(tmp_path / "limit.txt", b"a" * (5 * 1024 * 1024)))
    assert len(article.text) == 5 * 1024 * 1024


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root can read anything")
def test_permission_denied(tmp_path: Path) -> None:
    secret = write(tmp_path / "secret.txt", "Classified cable.")
    secret.chmod(0)
    try:
        assert error_of(secret).reason == "cannot be read: Permission denied"
    finally:
        secret.chmod(0o644)


def test_permission_denied_simulated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Runs also as root, where chmod cannot make a file unreadable.
    secret = write(tmp_path / "secret.txt", "Classified cable.")

    def refuse(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", refuse)
    assert error_of(secret).reason == "cannot be read: Permission denied"


def test_html_without_article_text(tmp_path: Path) -> None:
    err = error_of(write(tmp_path / "blank.html", EMPTY_PAGE))
    assert err.reason == "no article text found in the HTML"


def test_markdown_with_only_code(tmp_path: Path) -> None:
    err = error_of(write(tmp_path / "code.md", "```\nprint('hi')\n```\n"))
    assert "no article text" in err.reason


# --------------------------------------------------------------------------- plain text


def test_txt_is_verbatim_and_offsets_hold(tmp_path: Path) -> None:
    content = (
        "  Ankara talks  \n\nTurkey and Armenia signed protocols in Zurich on 10 October 2009.\n"
        "Page 2 of 3   \n"
    )
    article = read_file(write(tmp_path / "talks.txt", content))
    assert article.text == content
    start = content.index("Armenia")
    assert article.text[start : start + len("Armenia")] == "Armenia"
    assert article.title == "Ankara talks"
    assert article.source == (tmp_path / "talks.txt").resolve().as_uri()
    assert article.source.startswith("file:///")


def test_txt_newlines_normalized(tmp_path: Path) -> None:
    article = read_file(write(tmp_path / "crlf.txt", b"First line\r\nSecond line\rThird\n"))
    assert article.text == "First line\nSecond line\nThird\n"


def test_txt_bom_stripped(tmp_path: Path) -> None:
    article = read_file(write(tmp_path / "bom.txt", "\ufeffSummit in Lisbon\nText.".encode()))
    assert article.text == "Summit in Lisbon\nText."
    assert article.title == "Summit in Lisbon"


def test_title_is_capped_at_200_chars(tmp_path: Path) -> None:
    article = read_file(write(tmp_path / "long.txt", "word " * 100 + "\nbody"))
    assert len(article.title) <= 200
    assert article.title.startswith("word word")


def test_suffix_case_is_ignored(tmp_path: Path) -> None:
    article = read_file(write(tmp_path / "SHOUT.TXT", "Upper-case suffix works."))
    assert article.text == "Upper-case suffix works."


# --------------------------------------------------------------------------- Markdown


MARKDOWN = """---
title: Front matter title
tags: [nato]
---
# Finland joins **NATO**

Finland became the 31st member of *NATO* on 4 April 2023, see
[the alliance statement](https://www.nato.int/x) and `Article 10`.

![Flag of Finland](finland.png)

> Sweden followed in 2024.

- Helsinki applied in May 2022.
- Turkey ratified last.

| Country | Joined |
|---------|--------|
| Finland | 2023 |

```
print("code is not article text")
```
"""


def test_markdown_markup_removed(tmp_path: Path) -> None:
    article = read_file(write(tmp_path / "finland.md", MARKDOWN))
    assert article.title == "Finland joins NATO"
    assert article.text.split("\n\n") == [
        "Finland joins NATO",
        "Finland became the 31st member of NATO on 4 April 2023, see "
        "the alliance statement and Article 10.",
        "Flag of Finland",
        "Sweden followed in 2024.",
        "Helsinki applied in May 2022.",
        "Turkey ratified last.",
        "Country | Joined",
        "Finland | 2023",
    ]
    for junk in ("**", "*", "[", "](", "https://", "`", "---", "tags:", "print("):
        assert junk not in article.text


def test_markdown_without_heading_takes_first_line(tmp_path: Path) -> None:
    article = read_file(write(tmp_path / "plain.markdown", "Just **bold** prose.\n\nMore."))
    assert article.title == "Just bold prose."
    assert article.text == "Just bold prose.\n\nMore."


# --------------------------------------------------------------------------- HTML


def test_html_main_text_without_boilerplate(tmp_path: Path) -> None:
    article = read_file(write(tmp_path / "chile.html", NEWS_PAGE))
    for paragraph in PARAGRAPHS:
        assert paragraph in article.text
    # Paragraphs are separated by blank lines, like the .md path.
    assert f"{PARAGRAPHS[0]}\n\n{PARAGRAPHS[1]}\n\n{PARAGRAPHS[2]}" in article.text
    for junk in ("Share this post", "Share on Twitter", "cookies", "Politics", "Subscribe"):
        assert junk not in article.text
    assert "All rights reserved" not in article.text
    assert article.title == HEADLINE


def test_html_declared_charset(tmp_path: Path) -> None:
    page = NEWS_PAGE.replace('charset="utf-8"', 'charset="iso-8859-1"').replace("©", "(c)")
    article = read_file(write(tmp_path / "latin.htm", page.encode("latin-1")))
    assert "Felipe Larraín" in article.text


def test_read_text_kinds() -> None:
    md = read_text("## Brexit\n\nThe *United Kingdom* left.", "urn:test:1", kind="md")
    assert md.text == "Brexit\n\nThe United Kingdom left."
    assert md.title == "Brexit"
    html = read_text(NEWS_PAGE, "https://news.example/chile", kind="html", title="Given")
    assert html.title == "Given"
    assert PARAGRAPHS[1] in html.text
    with pytest.raises(ArticleError, match=r"^urn:test:2: is empty$"):
        read_text("\n\n", "urn:test:2")


# --------------------------------------------------------------------------- key and hash


def test_key_depends_on_source_only() -> None:
    a = Article(source="file:///news/a.txt", title="A", text="one")
    b = Article(source="file:///news/a.txt", title="B", text="two")
    c = Article(source="file:///news/c.txt", title="A", text="one")
    assert a.key == b.key
    assert a.key != c.key
    assert len(a.key) == 16
    int(a.key, 16)


def test_key_stable_and_content_hash_tracks_text(tmp_path: Path) -> None:
    path = write(tmp_path / "story.txt", "Version one.")
    first = read_file(path)
    again = read_file(path)
    write(path, "Version two.")
    changed = read_file(path)
    assert first.key == again.key == changed.key
    assert first.content_hash == again.content_hash
    assert first.content_hash != changed.content_hash
    assert first.content_hash.startswith("sha256:")
    assert len(first.content_hash) == len("sha256:") + 64


# --------------------------------------------------------------------------- iter_paths


def test_iter_paths_directory_tree(tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    for name in [
        "b.md",
        "a.txt",
        "sub/c.html",
        "sub/deeper/d.htm",
        "z.markdown",
        "sub-x.txt",
        "a-side.text",
        ".hidden.txt",
        ".git/config.txt",
        "sub/.cache/e.md",
        "notes.pdf",
        "image.png",
        "README",
    ]:
        write(root / name, "Some text.")
    found = list(iter_paths([root]))
    assert all(isinstance(p, Path) for p in found)
    assert [p.relative_to(root).as_posix() for p in found] == [  # type: ignore[union-attr]
        "a-side.text",
        "a.txt",
        "b.md",
        "sub/c.html",
        "sub/deeper/d.htm",
        "sub-x.txt",
        "z.markdown",
    ]
    assert all(p.suffix in SUFFIXES for p in found)  # type: ignore[union-attr]


def test_iter_paths_mixed_inputs(tmp_path: Path) -> None:
    pdf = write(tmp_path / "doc.pdf", "%PDF")
    story = write(tmp_path / "story.txt", "A story.")
    empty_dir = tmp_path / "empty"
    empty_dir.mkdir()
    write(empty_dir / "only.pdf", "%PDF")
    url = "https://news.example/article"
    items = list(
        iter_paths([str(story), url, tmp_path / "missing.md", pdf, empty_dir, "HTTP://X.ORG/a"])
    )
    assert items[0] == story
    assert items[1] == url
    assert isinstance(items[2], ArticleError)
    assert str(items[2]) == f"{tmp_path / 'missing.md'}: does not exist"
    assert items[3] == pdf  # explicit files are passed on so read_file can say why not
    assert isinstance(items[4], ArticleError)
    assert str(items[4]) == f"{empty_dir}: no .txt, .md or .html files"
    assert items[5] == "HTTP://X.ORG/a"
    assert len(items) == 6

    assert read_any(items[0]).text == "A story."
    with pytest.raises(ArticleError, match="does not exist"):
        read_any(items[2])
    with pytest.raises(ArticleError, match=r"doc\.pdf: unsupported file type '\.pdf'"):
        read_any(items[3])


# --------------------------------------------------------------------------- read_url


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def site(tmp_path: Path) -> Iterator[str]:
    """Base URL of a real HTTP server serving a small site from a temporary directory."""
    root = tmp_path / "site"
    write(root / "chile.html", NEWS_PAGE)
    write(root / "section/index.html", NEWS_PAGE)
    write(root / "wire.txt", "Plain wire copy about Chile.\r\nSecond line.")
    write(root / "paper.pdf", b"%PDF-1.4 fake")
    write(root / "blank.html", EMPTY_PAGE)
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_read_url_html(site: str) -> None:
    article = read_url(f"{site}/chile.html")
    assert article.source == f"{site}/chile.html"
    assert article.title == HEADLINE
    for paragraph in PARAGRAPHS:
        assert paragraph in article.text
    assert "Share this post" not in article.text
    assert read_any(f"{site}/chile.html") == article


def test_read_url_source_is_final_url_after_redirect(site: str) -> None:
    # http.server redirects a directory without trailing slash to the slashed URL.
    article = read_url(f"{site}/section")
    assert article.source == f"{site}/section/"
    assert PARAGRAPHS[0] in article.text


def test_read_url_plain_text(site: str) -> None:
    article = read_url(f"{site}/wire.txt")
    assert article.text == "Plain wire copy about Chile.\nSecond line."


def test_read_url_404(site: str) -> None:
    url = f"{site}/gone.html"
    with pytest.raises(ArticleError) as info:
        read_url(url)
    assert url in str(info.value)
    assert "404" in str(info.value)
    assert info.value.where == url


def test_read_url_not_html(site: str) -> None:
    url = f"{site}/paper.pdf"
    with pytest.raises(ArticleError) as info:
        read_url(url)
    assert str(info.value) == f"{url}: is not an HTML page (content type 'application/pdf')"


def test_read_url_page_without_text(site: str) -> None:
    with pytest.raises(ArticleError, match="no article text found in the HTML"):
        read_url(f"{site}/blank.html")


def test_read_url_connection_refused() -> None:
    # Bind and release a port so that nothing is listening on it.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/article.html"
    with pytest.raises(ArticleError) as info:
        read_url(url, timeout=5)
    assert url in str(info.value)
    assert "refused" in str(info.value).lower()


def test_read_url_rejects_other_schemes() -> None:
    with pytest.raises(ArticleError, match=r"^ftp://x/a\.html: is not an http\(s\) URL$"):
        read_url("ftp://x/a.html")
