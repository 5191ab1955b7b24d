"""HTML compared by what it means: the report's rewritten pieces against their former renderings
(``tests/test_report_chart.py``, ``tests/test_report_tables.py``)."""

from __future__ import annotations

from html.parser import HTMLParser


class _Tokens(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tokens: list[tuple[object, ...]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tokens.append(("<", tag, tuple(attrs)))

    def handle_endtag(self, tag: str) -> None:
        self.tokens.append(("</", tag))

    def handle_data(self, data: str) -> None:
        text = " ".join(data.split())
        if not text:
            return
        if self.tokens and self.tokens[-1][0] == "text":
            self.tokens[-1] = ("text", f"{self.tokens[-1][1]} {text}")
        else:
            self.tokens.append(("text", text))


def tokens(html: str) -> list[tuple[object, ...]]:
    """``html`` as its tags (with their attributes, in order), and its text with the runs of
    whitespace made one space and the character references read (Django writes ``'`` as
    ``&#x27;``, Jinja2 as ``&#39;``): two renderings with the same tokens mean the same."""
    parser = _Tokens()
    parser.feed(html)
    parser.close()
    return parser.tokens
