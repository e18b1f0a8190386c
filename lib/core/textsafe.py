"""One rule for text that people and files wrote: it is shown as text, never run as markup.

Agent names, comments, notes, replies, dispute reasons and file names come from uploads and
from other users. Streamlit renders Markdown (links, images, `:red[...]`, bare URLs) in most
elements, Plotly renders a subset of HTML (`<a href>`) in labels and hover text, and the
report is HTML; so such text goes through `md` before a page shows it, through `html` before
a chart or the report does (`figure` does the whole figure). The page code says what is
trusted by what it leaves out: interface text from the catalogues is not escaped.
"""

from __future__ import annotations

import html as _html
import re

# Every ASCII punctuation character may be backslash-escaped in CommonMark; escaping them all
# also stops emoji and icon shortcodes, colour directives and LaTeX ($).
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~:$&=\"'%/^@,;?])")
# GitHub-flavoured Markdown links bare URLs, www. names and e-mail addresses in plain text,
# escapes or not; an invisible zero-width space where the link would start stops that.
ZWSP = "\u200b"
_AUTOLINK = re.compile(r"(://|(?i:www)\.|@)")


def md(value) -> str:
    """Text for a Markdown element (st.markdown, st.write of a string, st.info, captions …)."""
    if value is None:
        return ""
    text = _AUTOLINK.sub(lambda m: m.group(1)[:-1] + ZWSP + m.group(1)[-1], str(value))
    # A line break inside a note stays a line break (two spaces make it one in Markdown).
    return "  \n".join(_MD_SPECIAL.sub(r"\\\1", line) for line in text.splitlines() or [""])


def html(value) -> str:
    """Text for HTML: the report, and Plotly labels, names and hover text."""
    return "" if value is None else _html.escape(str(value), quote=True)


_FIGURE_TEXT = ("x", "y", "text", "name", "theta", "hovertext", "customdata", "labels")


def _escaped(value):
    if isinstance(value, str):
        return html(value)
    if isinstance(value, (list, tuple)):
        return type(value)(_escaped(v) for v in value)
    if hasattr(value, "dtype") and getattr(value.dtype, "kind", "") in "OUS":
        return [_escaped(v) for v in value.tolist()]
    return value


def figure(fig):
    """The figure with every piece of data-borne text escaped (its traces' categories, names,
    labels and hover text, and its title); returns the same figure."""
    for trace in fig.data:
        for attr in _FIGURE_TEXT:
            if attr in trace and trace[attr] is not None:
                trace[attr] = _escaped(trace[attr])
    if fig.layout.title and fig.layout.title.text:
        fig.layout.title.text = html(fig.layout.title.text)
    return fig
