"""The report pages people open and share (``reports.html``): one self-contained file each.

Checked on the monitoring page built from a hand-made report (no training, no MLflow): nothing
in it loads or runs (offline, and MLflow's artifact view shows HTML in a sandbox without
scripts), the verdict comes before anything else, every drifted feature has its plot inline,
and text from the data is shown as written, never as markup (P4, Mo2).
"""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser

from {{ cookiecutter.package_name }}.data.report import (
    Problem,
)
from {{ cookiecutter.package_name }}.monitoring.drift import (
    Check,
    DriftReport,
)
from {{ cookiecutter.package_name }}.monitoring.report import (
    MonitorReport,
    to_html,
)
from {{ cookiecutter.package_name }}.reports.html import (
    markdown,
)

HOSTILE = "<b>x</b>"  # a column name that is also markup
PAGE_TAGS = {"html", "head", "meta", "title", "style", "body", "header", "main", "h1", "h2", "h3"}
PAGE_TAGS |= {"p", "ul", "li", "table", "thead", "tbody", "tr", "th", "td", "img"}


class Elements(HTMLParser):
    """The start tags of a page in document order, with their attributes, and the verdict's text."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.verdict = ""
        self._in_verdict = False
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_verdict = dict(attrs).get("id") == "verdict"

    def handle_endtag(self, tag: str) -> None:
        self._in_verdict = False

    def handle_data(self, data: str) -> None:
        if self._in_verdict:
            self.verdict += data


def drifted_report() -> tuple[MonitorReport, dict[str, bytes]]:
    """Two drifted features (one named like markup), one quiet one, a contract violation and a
    schema change, with a distinct picture per drifted feature."""
    checks = [
        Check("spend", "distribution", "wasserstein_sd", 0.9, 0.2, 1e-30, 1e-29, True, "up"),
        Check(HOSTILE, "distribution", "total_variation", 0.4, 0.1, 1e-9, 1e-8, True, "<i>"),
        Check("age", "distribution", "wasserstein_sd", 0.01, 0.2, 0.8, 1.0, False, "same"),
    ]
    report = MonitorReport(
        file="batches/<new>.csv",
        reference="models:/m@champion",
        drift=DriftReport(rows=500, checks=checks),
        violations=[Problem(HOSTILE, "in_range(0, 9)", 6, ["<script>1</script>"])],
        schema_changes=[Problem(None, f"new column {HOSTILE!r} (object)", 0)],
    )
    plots = {name: f"PNG of {name}".encode() for name in ("spend", HOSTILE)}
    return report, plots


def test_the_monitoring_page_is_self_contained_and_leads_with_the_verdict() -> None:
    report, plots = drifted_report()
    page = to_html(report, plots)
    elements = Elements(page)
    # Self-contained: nothing to fetch, nothing to run.
    assert not re.search(r"(https?:)?//", page) and "<script" not in page.lower()
    assert "<link" not in page and "url(" not in page
    sources = [attrs.get("src") or "" for _, attrs in elements.tags if "src" in attrs]
    assert sources and all(s.startswith("data:image/png;base64,") for s in sources)
    # The verdict is the first thing in the body, coloured as an alert, with every reason.
    body = [tag for tag, _ in elements.tags].index("body")
    first_tag, first_attrs = elements.tags[body + 1]
    assert first_attrs.get("id") == "verdict" and first_attrs.get("class") == "alert", first_tag
    assert elements.verdict.startswith("ALERT")
    for line in report.alerts:
        assert line in elements.verdict  # as text: the parser has unescaped it
    # Every drifted feature has its own picture, named by its alt text.
    images = {attrs["alt"]: attrs["src"] for tag, attrs in elements.tags if tag == "img"}
    for feature, png in plots.items():
        (src,) = [src for alt, src in images.items() if alt and feature in alt]
        assert base64.b64decode(src.split(",", 1)[1]) == png
    assert len(images) == len(plots)
    # Text from the data is escaped wherever it appears: a name, an example, a detail, a file.
    assert HOSTILE not in page and "<i>" not in page and "<new>" not in page
    assert "&lt;b&gt;x&lt;/b&gt;" in page and "&lt;script&gt;1&lt;/script&gt;" in page
    assert {tag for tag, _ in elements.tags} <= PAGE_TAGS  # no markup came from the data


def test_a_clean_batch_gets_the_ok_banner_and_no_plots() -> None:
    report, _ = drifted_report()
    report.drift.checks = [c for c in report.drift.checks if not c.drifted]
    report.violations, report.schema_changes = [], []
    elements = Elements(to_html(report, {}))
    assert not report.alert
    assert ("header", {"id": "verdict", "class": "ok", "role": "status"}) in elements.tags
    assert elements.verdict.startswith("clean")
    assert not [tag for tag, _ in elements.tags if tag == "img"]


def test_markdown_shows_raw_html_as_text_and_loads_nothing() -> None:
    """Pages built from markdown (a model card) stay self-contained: raw HTML in the text is
    shown, not run, and a markdown image pointing at a URL is not fetched."""
    rendered = markdown("# Card\n\n<script>alert(1)</script>\n\n![chart](http://e.com/c.png)\n")
    assert "<h1>Card</h1>" in rendered
    assert "<script" not in rendered and "&lt;script&gt;" in rendered
    assert "<img" not in rendered and "src=" not in rendered
