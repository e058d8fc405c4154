"""Lesson Markdown to HTML that is safe to show: CommonMark and tables, then an allow-list."""

from __future__ import annotations

import posixpath
from functools import lru_cache
from urllib.parse import quote, urlsplit

import nh3
from markdown_it import MarkdownIt

TAGS = {
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "p",
    "br",
    "hr",
    "ul",
    "ol",
    "li",
    "code",
    "pre",
    "em",
    "strong",
    "a",
    "img",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "blockquote",
}
ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "ol": {"start"}}
LINK_SCHEMES = {"http", "https", "mailto"}

# Raw HTML in the Markdown is shown as text; the allow-list below is the second wall.
_markdown = MarkdownIt("commonmark", {"html": False}).enable("table")


def _image_source(value: str, files_base: str) -> str | None:
    """A local image address; a path relative to the lesson names a package file.

    Images from other sites are dropped: the platform must work on a closed network, and
    its Content-Security-Policy would block them anyway (``img-src 'self' data:``).
    """
    parts = urlsplit(value)
    if parts.scheme or value.startswith("//") or parts.netloc:
        return None
    if value.startswith("/"):
        return value
    # Lessons live in the package's lessons/ folder: "img/x.png" is "lessons/img/x.png".
    path = posixpath.normpath(posixpath.join("lessons", parts.path))
    if path.startswith("..") or path.startswith("/"):
        return None
    return f"{files_base}/{quote(path)}"


@lru_cache(maxsize=512)
def lesson_html(markdown: str, files_base: str) -> str:
    """Sanitised HTML of lesson ``markdown``; images relative to the lesson use ``files_base``."""

    def keep(element: str, attribute: str, value: str) -> str | None:
        if element == "img" and attribute == "src":
            return _image_source(value, files_base)
        return value

    return nh3.clean(
        _markdown.render(markdown or ""),
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=LINK_SCHEMES,
        attribute_filter=keep,
        link_rel="noopener noreferrer",
    )
