"""What every page shares: the HTML skeleton, escaping untrusted text, and figures as data URIs."""

from __future__ import annotations

import base64
import io
from html import escape
from typing import Any

from grader.text import MAX_MESSAGE_CHARS, bounded, plain


def escaped(text: object, limit: int = MAX_MESSAGE_CHARS) -> str:
    """`text`, plain and at most `limit` characters, HTML-escaped: pages quote what submissions wrote."""
    return escape(plain(bounded(str(text), limit)), quote=True)


def page(title: str, css: str, body: str) -> str:
    """A self-contained page: `body` (HTML) inside <main>, styled by `css`."""
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escaped(title, 200)}</title><style>{css}</style></head><body><main>"
        f"{body}</main></body></html>\n"
    )


def png(fig: Any, *, tight: bool = False) -> str:
    """The matplotlib figure as a PNG data URI (closed afterwards); `tight` crops its margins."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, **({"bbox_inches": "tight"} if tight else {}))
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
