"""One self-contained HTML page per report: a person opens it, shares it, attaches it to a ticket.

Everything is inline (CSS, images as ``data:`` URIs) and nothing runs or loads: no JavaScript, no
fonts, no network. So the page works offline, in a mail attachment, and in MLflow's artifact view,
which shows HTML in a sandboxed iframe without scripts. A Content-Security-Policy says the same to
the browser, so a stray external reference fails closed instead of leaking a request. The verdict
comes first (P3: a simple, observable result): a banner coloured by ok or alert, ``id="verdict"``.
Text from the data (column names, values, file names) is escaped everywhere: a column named
``<b>x</b>`` is shown as written, never as markup.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence

from markdown_it import MarkdownIt

# Nothing but inline styles and data: images may load; scripts, frames and fetches are refused.
_POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'"

_STYLE = """
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif;
       color: #1f2328; background: #ffffff; }
#verdict { margin: 0; padding: 18px 28px; color: #ffffff; font-size: 18px; font-weight: 600;
           white-space: pre-line; }
#verdict.ok { background: #1a7f37; }
#verdict.alert { background: #c62828; }
main { padding: 8px 28px 32px; max-width: 1200px; }
h1 { font-size: 22px; margin: 16px 0 8px; }
h2 { font-size: 18px; margin: 24px 0 8px; border-bottom: 1px solid #d0d7de; }
table { border-collapse: collapse; margin: 8px 0 16px; }
th, td { border: 1px solid #d0d7de; padding: 4px 10px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
td.number { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
img { max-width: 100%; height: auto; display: block; margin: 8px 0 16px; }
code { background: #f6f8fa; padding: 0 3px; }
"""

# CommonMark with tables; raw HTML in the text is escaped, and markdown images (which would load
# from a URL) are not rendered: pictures go through ``image`` as data: URIs.
_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable("table").disable("image")


def escape(text: object) -> str:
    """``text`` as HTML text: data never becomes markup (quotes escaped, so attributes are safe)."""
    return html.escape(str(text), quote=True)


def page(title: str, verdict: str, body: str, ok: bool) -> str:
    """A complete HTML5 document: the verdict banner first (green when ``ok``, red otherwise),
    then ``title`` and ``body`` (HTML built with this module's helpers; not escaped again)."""
    state = "ok" if ok else "alert"
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{_POLICY}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        f'<header id="verdict" class="{state}" role="status">{escape(verdict)}</header>\n'
        f"<main>\n<h1>{escape(title)}</h1>\n{body}\n</main>\n</body>\n</html>\n"
    )


def image(png: bytes, alt: str) -> str:
    """An ``<img>`` holding ``png`` itself (base64 ``data:`` URI): the page needs no other file."""
    data = base64.b64encode(png).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{escape(alt)}">'


def table(header: list[str], rows: Sequence[Sequence[object]]) -> str:
    """A table of ``rows`` under ``header`` (none when empty: a table of facts), every cell
    escaped; numbers right-aligned, floats to 4 significant digits, ``None`` and NaN empty."""
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    thead = f"<thead><tr>{head}</tr></thead>\n" if header else ""
    body = "".join("<tr>" + "".join(_cell(v) for v in row) + "</tr>\n" for row in rows)
    return f"<table>\n{thead}<tbody>\n{body}</tbody>\n</table>"


def _cell(value: object) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "<td></td>"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"<td>{escape(value)}</td>"
    text = f"{value:.4g}" if isinstance(value, float) else str(value)
    return f'<td class="number">{text}</td>'


def markdown(text: str) -> str:
    """``text`` (CommonMark with tables) as HTML; raw HTML in it is shown escaped, not run."""
    return _MARKDOWN.render(text)
