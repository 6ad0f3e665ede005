"""Model text that arrives as UTF-16 halves (a JSON "\\ud83d" escape, a pair split across two deltas by
a server that cuts by UTF-16 units): whatever the split, the stage's text is valid Unicode, a pair
becomes its character again, and only a surrogate with no partner becomes U+FFFD."""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from executions.engine.surrogates import REPLACEMENT, SurrogateMender, mend_surrogates
from tests.properties.strategies import model_text, text_with_surrogates


def utf16_units(text: str) -> list[str]:
    """The text as JavaScript sees it: one str per UTF-16 code unit (astral characters as two halves)."""
    data = text.encode("utf-16-le", "surrogatepass")
    return [data[i : i + 2].decode("utf-16-le", "surrogatepass") for i in range(0, len(data), 2)]


@st.composite
def utf16_split(draw: Any) -> tuple[str, list[str]]:
    """A well-formed text and deltas cut at any UTF-16 unit, as a JSON-escaping JS server would send."""
    text = draw(model_text)
    units = utf16_units(text)
    cuts = sorted(draw(st.lists(st.integers(0, len(units)), max_size=20)))
    points = [0, *cuts, len(units)]
    return text, ["".join(units[a:b]) for a, b in itertools.pairwise(points)]


def plain_bmp(text: str) -> list[str]:
    return [c for c in text if c <= "\uffff" and c != REPLACEMENT and not "\ud800" <= c <= "\udfff"]


def mend_all(deltas: list[str]) -> str:
    mender = SurrogateMender()
    return "".join(mender.feed(d) for d in deltas) + mender.end()


@given(utf16_split())
def test_a_text_cut_at_any_utf16_unit_is_restored_exactly(split: tuple[str, list[str]]) -> None:
    text, deltas = split
    assert mend_all(deltas) == text


@given(st.lists(text_with_surrogates, max_size=8))
def test_any_deltas_become_encodable_text_changing_only_surrogates(deltas: list[str]) -> None:
    mended = mend_all(deltas)
    mended.encode("utf-8")  # never raises: Redis, the database and the SSE wire can all take it
    # Exactly what mending the joined text does: splitting into deltas changes nothing.
    assert mended == mend_surrogates("".join(deltas))
    # Every other character of the BMP is kept, in order (astral ones may be made from pairs).
    assert plain_bmp(mended) == plain_bmp("".join(deltas))


@given(model_text)
def test_well_formed_text_passes_unchanged(text: str) -> None:
    assert mend_surrogates(text) == text
    assert mend_all([text]) == text
