"""Strategies shared by the property tests: the text a model may send, and JSON- and YAML-like values."""

from __future__ import annotations

from hypothesis import strategies as st

#: characters that break naive handling: line ends SSE and JSON treat differently, NUL, the Unicode
#: line separators, a BOM, multi-byte and 4-byte characters, a combining mark and a ZWJ sequence
AWKWARD = [
    "\n",
    "\r",
    "\r\n",
    "\x00",
    "\u2028",
    "\u2029",
    "\x85",
    "\ufeff",
    "é",
    "日",
    "😀",
    "\U0010ffff",
    "e\u0301",
    "👩\u200d👩\u200d👧",
    "\\",
    '"',
    "{{",
    "}}",
    "```",
    ": ",
    "data: ",
    "\t",
]

#: text as Python may hold it from a provider: any code point but surrogates
model_text = st.lists(
    st.one_of(
        st.text(max_size=40),
        st.sampled_from(AWKWARD),
        # long runs past the 4096-byte chunk limit, in characters of 1 to 4 UTF-8 bytes
        st.tuples(st.sampled_from(["a", "é", "日", "😀", "\n"]), st.integers(1, 3000)).map(lambda p: p[0] * p[1]),
    ),
    max_size=10,
).map("".join)

#: the same, plus lone UTF-16 surrogates (what a JSON "\ud83d" escape decodes to)
text_with_surrogates = st.lists(
    st.one_of(model_text, st.characters(categories=["Cs"]), st.sampled_from(["\ud83d", "\ude00", "\ud83d\ude00"])),
    max_size=6,
).map("".join)

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**53), 2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)

json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=15,
)

#: what YAML may load: JSON's values and more (NaN, infinities, dates, non-string keys)
yaml_scalars = st.one_of(
    json_scalars,
    st.floats(),
    st.dates(),
    st.datetimes(),
    st.binary(max_size=8),
    st.sampled_from(["", "anthropic", "openai", "cli", "text", "json", "stages.a.output", "{{input}}", "-x-"]),
)
yaml_keys = st.one_of(
    st.sampled_from(
        [
            "id",
            "name",
            "stages",
            "prompt",
            "model",
            "provider",
            "output",
            "format",
            "extract",
            "skipIf",
            "runIf",
            "earlyExit",
            "path",
            "equals",
            "all",
            "any",
            "not",
            "retries",
            "timeoutMs",
            "defaults",
            "system",
            "tool",
        ]
    ),
    st.text(max_size=8),
    st.integers(),
    st.booleans(),
    st.none(),
)
yaml_values = st.recursive(
    yaml_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(yaml_keys, inner, max_size=5)),
    max_leaves=25,
)
