"""The rendered views of a stage's output, made on the server: Markdown (sanitized) and the terminal view
(ANSI colours). Both render incrementally: the browser sends the cursor of what it already shows and
gets the newly finished blocks to append plus the unfinished tail to replace, so a refresh while the
stage streams sends only what changed, never the whole output again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import nh3
from django.utils.html import escape
from markdown_it import MarkdownIt
from rich.ansi import AnsiDecoder
from rich.color import ColorType
from rich.console import Console
from rich.style import Style
from rich.text import Text

#: past this size Markdown is not rendered (the raw view shows the latest part); rendering stays cheap
MARKDOWN_LIMIT = 256 * 1024
#: past this size the terminal view shows only the latest part of the output, like the raw view
TERMINAL_WINDOW = 64 * 1024

# markdown-it normalizes line ends this way before it numbers lines (its "normalize" rule).
_LINE_END = re.compile(r"\r\n?|\n")


@dataclass(frozen=True, slots=True)
class ViewUpdate:
    #: HTML of blocks that are finished: appended to what the browser shows
    stable: str
    #: HTML of the unfinished last block: replaces the previous tail
    tail: str
    #: what the browser sends back next time
    cursor: str
    #: True: ``stable`` replaces everything shown (a fresh start, or a window that moved)
    replace: bool = False
    #: a line for the user ("too large to render…"), shown instead of the view when set
    notice: str = ""
    #: nothing more will come for this view (the output outgrew it): the browser stops asking
    settled: bool = False


# --- Markdown ---------------------------------------------------------------------------------------


@cache
def _markdown() -> MarkdownIt:
    # Raw HTML in model output is text, never markup ("html": False); nh3 then removes anything unsafe
    # that Markdown itself can produce (javascript: links and the like).
    return MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])


def render_markdown(text: str) -> str:
    if not text:
        return ""
    html = _markdown().render(text)
    return nh3.clean(html, link_rel="noopener noreferrer nofollow")


def _line_starts(text: str) -> list[int]:
    return [0, *(m.end() for m in _LINE_END.finditer(text))]


def _last_block_start(text: str) -> int:
    """Where the last top-level block begins: everything before it is finished, since what streams in
    next can only extend that block or start a new one."""
    starts = [t.map[0] for t in _markdown().parse(text) if t.level == 0 and t.map is not None and t.nesting >= 0]
    if len(starts) < 2:
        return 0
    lines = _line_starts(text)
    return lines[starts[-1]] if starts[-1] < len(lines) else len(text)


def markdown_update(text: str, cursor: str, *, final: bool) -> ViewUpdate:
    if len(text) > MARKDOWN_LIMIT:
        notice = (
            f"This output ({len(text):,} characters) is too large to render as Markdown here; "
            "the raw view shows its latest part, and the full text can be downloaded."
        )
        return ViewUpdate("", "", "0", replace=True, notice=notice, settled=True)
    after = int(cursor) if cursor.isdigit() and int(cursor) <= len(text) else 0
    rest = text[after:]
    boundary = len(rest) if final else _last_block_start(rest)
    return ViewUpdate(
        stable=render_markdown(rest[:boundary]),
        tail=render_markdown(rest[boundary:]),
        cursor=str(after + boundary),
        replace=after == 0,
    )


# --- terminal (ANSI colours) ------------------------------------------------------------------------


def _color_css(color: object, kind: str) -> tuple[str, str]:
    """(class, inline style) for a rich Color: the 16 standard colours are themed classes, others exact."""
    ctype = getattr(color, "type", ColorType.DEFAULT)
    number = getattr(color, "number", None)
    themed = ctype in (ColorType.STANDARD, ColorType.WINDOWS)
    if themed or (ctype == ColorType.EIGHT_BIT and number is not None and number < 16):
        return f"ansi-{kind}-{number}", ""
    if ctype in (ColorType.EIGHT_BIT, ColorType.TRUECOLOR):
        triplet = color.get_truecolor()  # type: ignore[attr-defined]
        prop = "color" if kind == "fg" else "background-color"
        return "", f"{prop}:{triplet.hex}"
    return "", ""


def _span(text: str, style: Style | None) -> str:
    if not text:
        return ""
    if style is None or not style:
        return escape(text)
    classes: list[str] = []
    inline: list[str] = []
    for color, kind in ((style.color, "fg"), (style.bgcolor, "bg")):
        if color is not None:
            cls, css = _color_css(color, kind)
            classes += [cls] if cls else []
            inline += [css] if css else []
    for attr in ("bold", "dim", "italic", "underline", "strike"):
        if getattr(style, attr):
            classes.append(f"ansi-{attr}")
    if not classes and not inline:
        return escape(text)
    # Only our own class names and hex colours reach the attributes; the text is escaped.
    attrs = f' class="{" ".join(classes)}"' if classes else ""
    attrs += f' style="{";".join(inline)}"' if inline else ""
    return f"<span{attrs}>{escape(text)}</span>"


_console = Console(width=10_000, color_system="truecolor", force_terminal=False, legacy_windows=False)


def render_ansi(text: str, decoder: AnsiDecoder) -> str:
    """HTML of ``text``, continuing the decoder's colour state from the text before it. Each line ends
    in a newline as in the text; a carriage return inside a line overwrites it, as in a terminal."""
    if not text:
        return ""
    complete = text.endswith("\n")
    lines = (text[:-1] if complete else text).split("\n")
    parts: list[str] = []
    for number, raw in enumerate(lines):
        line: Text = decoder.decode_line(raw)
        parts.extend(_span(seg.text, seg.style) for seg in line.render(_console, end=""))
        if complete or number < len(lines) - 1:
            parts.append("\n")
    return "".join(parts)


def _decoder(style: str) -> AnsiDecoder:
    decoder = AnsiDecoder()
    if style:
        try:
            decoder.style = Style.parse(style)
        except Exception:  # noqa: BLE001 - a cursor from a stale page: start without colours
            decoder.style = Style()
    return decoder


def terminal_update(text: str, cursor: str, *, final: bool) -> ViewUpdate:
    offset_text, _, style = cursor.partition(":")
    after = int(offset_text) if offset_text.isdigit() and int(offset_text) <= len(text) else -1
    replace = after < 0
    if replace:
        # A fresh view: the whole output, or only its latest part from a line start when it is large.
        after = 0
        if len(text) > TERMINAL_WINDOW:
            cut = len(text) - TERMINAL_WINDOW
            newline = text.find("\n", cut)
            after = newline + 1 if 0 <= newline < cut + 4096 else cut
        style = ""
    rest = text[after:]
    boundary = len(rest) if final else rest.rfind("\n") + 1
    decoder = _decoder(style)
    stable = render_ansi(rest[:boundary], decoder) if boundary else ""
    next_style = str(decoder.style) if decoder.style else ""
    # The tail is drawn with a throwaway decoder, so its colours do not leak into the next cursor.
    tail = render_ansi(rest[boundary:], _decoder(next_style))
    notice = f"Showing the latest part; {after:,} characters before it are not shown." if replace and after else ""
    return ViewUpdate(stable, tail, f"{after + boundary}:{next_style}", replace=replace, notice=notice)
