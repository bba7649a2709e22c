"""Find a test account's PII in observed text: plain, re-formatted, case-folded, encoded or hashed.

Each account's ``pii`` table (field -> value) becomes *variants*: the value in the formats people and
trackers write it in (name orderings, phone and date formats, the email's local part), case-folded, then
passed through chains of encoders (``encodings.py``) such as ``sha256(lower(email))``. Every variant keeps
its chain of step names, so a match can say how the value was transformed ("sha256 of the lower-cased
email"). ``PiiMatcher.scan`` finds every occurrence of every variant of every account in a text (see
``_Occurrences`` for how, fast). Matching is exact and case-sensitive, which is right for base64;
case-insensitivity of plain text and hex comes from the case-folded variants (hex digests are searched in
lower and upper case).

Chains: every plain variant gets one encoding step; the *canonical* plain variants (the value itself and
its lower-cased form, the name parts, digit-only and E.164 phones, ISO and compact dates) are chained up
to ``depth`` steps. Chaining every case and ordering to depth 2 would multiply the automaton by ~40 for
forms nobody hashes twice.

Precision rule. A variant is *ambiguous* when it is shorter than ``distinctive_length`` characters or
purely numeric (an optional leading ``+`` allowed), e.g. a first name "Liam", a student id "4417209", a
phone "4025550147" or a birth date "20121123". An ambiguous variant counts only when

1. the match is a delimited token: the characters just outside it are not letters or digits (or the
   match is the whole scanned text), so "4417209" inside "1234417209876" never counts; and
2. either the token is one of the field's full date formats (a date with a four-digit year), or a key
   hint is next to it: the key right before the token (``key=``, ``"key":``, ``key/`` in a path,
   ``Header: ``), or the ``key`` the caller passes (a cookie, storage key, header or parameter name),
   resembles the field: it contains a word of the field's name or a known synonym (``sid`` or
   ``student`` for a student id, ``dob``/``birth`` for a birth date, ``tel``/``phone``/``mobile``, ``fn``,
   ``ln``, ``name``, ``em``/``mail``).

Unambiguous variants (long, with a letter or punctuation) count wherever they occur.
"""

from __future__ import annotations

import datetime as dt
import re
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

import numpy

from crawler.analyze.encodings import (
    DIGEST_ENCODERS,
    ENCODING_NAMES,
    FINAL_STEPS,
    NORMALIZER_ADJECTIVES,
    NORMALIZERS,
    TRANSPORT_ENCODERS,
)


@dataclass(frozen=True)
class PiiField:
    """One piece of a test account's PII, as the config states it."""

    account: str
    field: str
    value: str


@dataclass(frozen=True)
class PiiVariant:
    """A string to search for, and how it was derived from the field's value."""

    account: str
    field: str
    text: str
    chain: tuple[str, ...]
    is_full_date: bool = False

    @property
    def description(self) -> str:
        return describe_chain(self.field, self.chain)


@dataclass(frozen=True)
class PiiMatch:
    """A variant found in a scanned text; ``start``/``end`` index that text."""

    account: str
    field: str
    value_variant: str
    chain: tuple[str, ...]
    location: str
    start: int
    end: int

    @property
    def text(self) -> str:
        """The matched text (matching is exact, so it is the variant)."""
        return self.value_variant

    @property
    def description(self) -> str:
        return describe_chain(self.field, self.chain)


def pii_fields(account: str, pii: Mapping[str, object]) -> list[PiiField]:
    """The fields of an account's ``pii`` config table; empty values are skipped."""
    return [
        PiiField(account, field, str(value)) for field, value in pii.items() if value is not None and str(value).strip()
    ]


# --- what a field is -------------------------------------------------------------------------

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_NAME_PART_WORDS = frozenset(
    {"first", "given", "last", "family", "surname", "middle", "firstname", "lastname", "fname", "lname"}
)
_NOT_PERSON_NAME_WORDS = frozenset({"user", "username", "login", "screen", "account", "school", "file"})
_PHONE_WORDS = frozenset({"phone", "tel", "telephone", "mobile", "cell", "fax"})
_DATE_WORDS = frozenset({"birth", "birthday", "birthdate", "dob", "bday", "born", "date"})
_GENERIC_KEY_WORDS = frozenset({"id", "date", "number", "num", "no", "code", "value", "data", "info"})

_KEY_HINT_GROUPS = (
    frozenset({"student", "stu", "sid", "stuid", "pupil", "learner"}),
    frozenset({"birth", "birthday", "birthdate", "bday", "dob", "born", "db"}),
    frozenset({"phone", "tel", "telephone", "mobile", "cell", "ph", "msisdn"}),
    frozenset(
        {"name", "fn", "ln", "first", "last", "given", "family", "surname", "fname", "lname",
         "firstname", "lastname", "fullname"}
    ),
    frozenset({"email", "mail", "em", "emailaddress"}),
)  # fmt: skip

_KIND_HINT = {"email": "email", "phone": "phone", "full_name": "name", "name_part": "name"}


def words_of(name: str) -> list[str]:
    """Lower-case words of an identifier: ``studentID`` and ``student-id`` both give student, id."""
    return [word.lower() for word in re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+", name)]


def field_kind(field: PiiField) -> str:
    """email | phone | date | full_name | name_part | text, from the field's name (and value)."""
    words = set(words_of(field.field))
    if words & {"email", "mail"} or _EMAIL.fullmatch(field.value.strip()):
        return "email"
    if words & _PHONE_WORDS:
        return "phone"
    if words & _DATE_WORDS and _parse_date(field.value) is not None:
        return "date"
    if words & _NAME_PART_WORDS:
        return "name_part"
    if "name" in words and not words & _NOT_PERSON_NAME_WORDS:
        return "full_name"
    return "text"


def key_hints(field: PiiField) -> frozenset[str]:
    """Key words that, next to an ambiguous token, make it this field (see the module's precision rule)."""
    words = set(words_of(field.field)) - _GENERIC_KEY_WORDS
    kind_hint = _KIND_HINT.get(field_kind(field))
    if kind_hint:
        words.add(kind_hint)
    hints = set(words)
    for group in _KEY_HINT_GROUPS:
        if group & words:
            hints |= group
    return frozenset(hints)


def key_resembles(key: str, hints: frozenset[str]) -> bool:
    key_words = words_of(key)
    joined = "".join(key_words)
    return any(hint in key_words or (len(hint) >= 4 and hint in joined) for hint in hints)


# --- plain formats -----------------------------------------------------------------------------

_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip

_DATE_INPUT_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%Y/%m/%d", "%Y%m%d", "%Y.%m.%d", "%m-%d-%Y")


def _parse_date(value: str) -> dt.date | None:
    text = value.strip()[:10] if re.match(r"\d{4}-\d{2}-\d{2}T", value.strip()) else value.strip()
    for date_format in _DATE_INPUT_FORMATS:
        try:
            return dt.datetime.strptime(text, date_format).date()
        except ValueError:
            continue
    return None


def _date_formats(day: dt.date) -> dict[str, str]:
    y, m, d = f"{day.year:04d}", f"{day.month:02d}", f"{day.day:02d}"
    month = _MONTHS[day.month - 1]
    return {
        "date_iso": f"{y}-{m}-{d}",
        "date_us": f"{m}/{d}/{y}",
        "date_eu": f"{d}/{m}/{y}",
        "date_compact": f"{y}{m}{d}",
        "date_ymd_slashes": f"{y}/{m}/{d}",
        "date_us_dashes": f"{m}-{d}-{y}",
        "date_eu_dots": f"{d}.{m}.{y}",
        "date_us_compact": f"{m}{d}{y}",
        "date_eu_compact": f"{d}{m}{y}",
        "date_us_unpadded": f"{day.month}/{day.day}/{y}",
        "date_month_name": f"{month[:3]} {d} {y}",
        "date_month_name_comma": f"{month[:3]} {day.day}, {y}",
        "date_full_month_name": f"{month} {day.day}, {y}",
        "date_day_month_name": f"{day.day} {month[:3]} {y}",
    }


def _phone_formats(value: str) -> dict[str, str]:
    digits = re.sub(r"\D", "", value)
    national = digits[1:] if len(digits) == 11 and digits.startswith("1") else digits
    if len(national) != 10:
        return {"phone_digits": digits}
    area, exchange, line = national[:3], national[3:6], national[6:]
    return {
        "phone_dashes": f"{area}-{exchange}-{line}",
        "phone_digits": national,
        "phone_parentheses": f"({area}) {exchange}-{line}",
        "phone_parentheses_compact": f"({area}){exchange}-{line}",
        "phone_e164": f"+1{national}",
        "phone_country_digits": f"1{national}",
        "phone_country_dashes": f"1-{area}-{exchange}-{line}",
        "phone_international": f"+1 {area}-{exchange}-{line}",
        "phone_dots": f"{area}.{exchange}.{line}",
        "phone_spaces": f"{area} {exchange} {line}",
    }


def _split_name(value: str) -> tuple[str, str] | None:
    if "," in value:
        last, first = (part.strip() for part in value.split(",", 1))
        first = first.split()[0] if first.split() else ""
    else:
        tokens = value.split()
        if len(tokens) < 2:
            return None
        first, last = tokens[0], tokens[-1]
    return (first, last) if first and last else None


def _name_formats(value: str) -> dict[str, str]:
    parts = _split_name(value)
    if parts is None:
        return {}
    first, last = parts
    formats = {
        "name_first_last": f"{first} {last}",
        "name_last_comma_first": f"{last}, {first}",
        "name_last_first": f"{last} {first}",
        "name_dot": f"{first}.{last}",
        "name_underscore": f"{first}_{last}",
        "name_plus": f"{first}+{last}",
        "name_encoded_space": f"{first}%20{last}",
        "name_joined": f"{first}{last}",
    }
    # A name part of two or three letters is shared by too many people to point at this account.
    if len(first) >= 4:
        formats["name_first"] = first
    if len(last) >= 4:
        formats["name_last"] = last
    return formats


_GENERIC_LOCAL_PARTS = frozenset(
    {"info", "admin", "contact", "support", "noreply", "no-reply", "student", "students", "test",
     "teacher", "office", "parent", "hello", "mail", "email", "user", "webmaster"}
)  # fmt: skip


def _email_formats(value: str, distinctive_length: int) -> dict[str, str]:
    local = value.strip().rsplit("@", 1)[0]
    if len(local) >= distinctive_length and local.lower() not in _GENERIC_LOCAL_PARTS:
        return {"email_local_part": local}
    return {}


FORMAT_DESCRIPTIONS = {
    "email_local_part": "local part of the {}",
    "name_first_last": "{} as First Last",
    "name_last_comma_first": "{} as Last, First",
    "name_last_first": "{} as Last First",
    "name_dot": "{} as First.Last",
    "name_underscore": "{} as First_Last",
    "name_plus": "{} as First+Last",
    "name_encoded_space": "{} as First%20Last",
    "name_joined": "{} as FirstLast",
    "name_first": "first name in the {}",
    "name_last": "last name in the {}",
    "phone_dashes": "{} as NNN-NNN-NNNN",
    "phone_digits": "{} as digits only",
    "phone_parentheses": "{} as (NNN) NNN-NNNN",
    "phone_parentheses_compact": "{} as (NNN)NNN-NNNN",
    "phone_e164": "{} as +1NNNNNNNNNN",
    "phone_country_digits": "{} as 1NNNNNNNNNN",
    "phone_country_dashes": "{} as 1-NNN-NNN-NNNN",
    "phone_international": "{} as +1 NNN-NNN-NNNN",
    "phone_dots": "{} as NNN.NNN.NNNN",
    "phone_spaces": "{} as NNN NNN NNNN",
    "date_iso": "{} as YYYY-MM-DD",
    "date_us": "{} as MM/DD/YYYY",
    "date_eu": "{} as DD/MM/YYYY",
    "date_compact": "{} as YYYYMMDD",
    "date_ymd_slashes": "{} as YYYY/MM/DD",
    "date_us_dashes": "{} as MM-DD-YYYY",
    "date_eu_dots": "{} as DD.MM.YYYY",
    "date_us_compact": "{} as MMDDYYYY",
    "date_eu_compact": "{} as DDMMYYYY",
    "date_us_unpadded": "{} as M/D/YYYY",
    "date_month_name": "{} as Mon DD YYYY",
    "date_month_name_comma": "{} as Mon D, YYYY",
    "date_full_month_name": "{} as Month D, YYYY",
    "date_day_month_name": "{} as D Mon YYYY",
}

_CANONICAL_FORMATS = frozenset(
    {"name_first", "name_last", "phone_digits", "phone_e164", "phone_country_digits", "date_iso", "date_compact"}
)
_CASE_FOLDS = {
    "email": ("identity", "lower", "upper"),
    "full_name": ("identity", "lower", "upper", "title"),
    "name_part": ("identity", "lower", "upper", "title"),
    "date": ("identity", "lower", "upper"),
    "text": ("identity", "lower", "upper"),
    "phone": ("identity",),
}


def describe_chain(field: str, chain: tuple[str, ...]) -> str:
    """Read a chain aloud: ``("lower", "sha256")`` on ``email`` is "sha256 of the lower-cased email"."""
    noun = field.replace("_", " ")
    adjectives: list[str] = []
    encodings: list[str] = []
    for step in chain:
        if step in FORMAT_DESCRIPTIONS:
            noun = FORMAT_DESCRIPTIONS[step].format(noun)
        elif step in NORMALIZER_ADJECTIVES:
            adjectives.append(NORMALIZER_ADJECTIVES[step])
        else:
            encodings.append(step)
    phrase = "the " + (", ".join(adjectives) + " " if adjectives else "") + noun
    for step in encodings:
        phrase = f"{ENCODING_NAMES[step]} of {phrase}"
    return phrase


@dataclass(frozen=True)
class _PlainForm:
    chain: tuple[str, ...]
    text: str
    canonical: bool


def _plain_forms(field: PiiField, distinctive_length: int) -> Iterator[_PlainForm]:
    kind = field_kind(field)
    bases: list[tuple[tuple[str, ...], str]] = [((), field.value)]
    if field.value.strip() != field.value:
        bases.append((("trimmed",), field.value.strip()))
    for base_chain, base in bases:
        formats: dict[str, str] = {}
        if kind == "email":
            formats = _email_formats(base, distinctive_length)
        elif kind == "phone":
            formats = _phone_formats(base)
        elif kind == "date":
            formats = _date_formats(_parse_date(base))  # type: ignore[arg-type]  # kind guarantees a date
        elif kind == "full_name":
            formats = _name_formats(base)
        formatted = [((), base, True)] + [((name,), text, name in _CANONICAL_FORMATS) for name, text in formats.items()]
        for format_chain, text, canonical_format in formatted:
            for fold in _CASE_FOLDS[kind]:
                fold_chain = () if fold == "identity" else (fold,)
                yield _PlainForm(
                    chain=base_chain + format_chain + fold_chain,
                    text=NORMALIZERS[fold](text),
                    canonical=canonical_format and fold in ("identity", "lower"),
                )


_CHAIN_STEPS = {**TRANSPORT_ENCODERS, **DIGEST_ENCODERS}


def pii_variants(field: PiiField, depth: int = 2, distinctive_length: int = 6) -> list[PiiVariant]:
    """Every string the field's value may travel as, each once, with its shortest chain.

    Breadth-first, so a string reachable by several chains keeps the shortest one.
    """
    is_date = field_kind(field) == "date"
    variants: dict[str, PiiVariant] = {}
    frontier: list[tuple[PiiVariant, int]] = []
    plain_forms = sorted(_plain_forms(field, distinctive_length), key=lambda form: not form.canonical)
    for form in plain_forms:
        if form.text and form.text not in variants:
            variant = PiiVariant(field.account, field.field, form.text, form.chain, is_full_date=is_date)
            variants[form.text] = variant
            frontier.append((variant, depth if form.canonical else min(depth, 1)))
    while frontier:
        next_frontier = []
        for variant, steps_left in frontier:
            if steps_left == 0 or (variant.chain and variant.chain[-1] in FINAL_STEPS):
                continue
            for name, encode in _CHAIN_STEPS.items():
                text = encode(variant.text)
                if text in variants:
                    continue
                encoded = PiiVariant(field.account, field.field, text, variant.chain + (name,))
                variants[text] = encoded
                next_frontier.append((encoded, steps_left - 1))
        frontier = next_frontier
    return list(variants.values())


# --- matching ---------------------------------------------------------------------------------

_KEY_CHARS = frozenset("_-.")
_NUMERIC = re.compile(r"\+?[0-9]+")


def _key_before(text: str, start: int) -> str | None:
    """The key written right before ``start``: ``key=``, ``"key": "``, ``key/``, ``Key: ``."""
    floor = max(0, start - 64)
    i = start
    while i > floor and text[i - 1] in " \t\"'":
        i -= 1
    if i == floor or text[i - 1] not in ":=/":
        return None
    i -= 1
    while i > floor and text[i - 1] in " \t\"']":
        i -= 1
    end = i
    while i > floor and (text[i - 1].isalnum() or text[i - 1] in _KEY_CHARS):
        i -= 1
    return text[i:end] or None


def _is_delimited(text: str, start: int, end: int) -> bool:
    before_ok = start == 0 or not text[start - 1].isalnum() or not text[start].isalnum()
    after_ok = end == len(text) or not text[end].isalnum() or not text[end - 1].isalnum()
    return before_ok and after_ok


def _without_contained(matches: list[PiiMatch]) -> list[PiiMatch]:
    """Drop a match inside a longer one of the same field; of equal spans keep the longest chain."""
    groups: dict[tuple[str, str], list[PiiMatch]] = {}
    for match in matches:
        groups.setdefault((match.account, match.field), []).append(match)
    kept = []
    for group in groups.values():
        group.sort(key=lambda m: (m.start, -m.end, -len(m.chain)))
        furthest_end = -1
        for match in group:
            if match.end <= furthest_end:
                continue
            kept.append(match)
            furthest_end = match.end
    return sorted(kept, key=lambda m: (m.start, m.end, m.account, m.field))


def _one_byte_per_char(text: str) -> bytes:
    """``text`` as ASCII bytes, a ``?`` for each other character: byte ``i`` is character ``i``."""
    return text.encode("ascii", "replace")


def _folded(text: str) -> bytes:
    """``_one_byte_per_char`` lower-cased (ASCII only, so still one byte per character): the indexes below
    look strings up case-insensitively, which lets the upper- and lower-case forms of a variant share their
    entries, and check each hit exactly against the text."""
    return _one_byte_per_char(text).lower()


class _PrefixFilter:
    """Every occurrence of strings at least ``width`` (at most 8) characters long, found by their first ``width``.

    Bit ``j`` of ``table[c]`` says that some string has byte ``c`` at offset ``j``. The text's bytes
    translated through the table and read as one big integer, shifted and AND-ed in C, leave bit 0 of byte
    ``i`` set where every byte of ``text[i : i + width]`` may start a string there: a few positions per
    block, each then checked exactly. This looks at the whole text in a handful of passes in C, where an
    Aho-Corasick automaton steps through it a character at a time.
    """

    BLOCK = 1 << 16  # bytes of text filtered at a time, so the big integers stay in the cache

    def __init__(self, strings: Iterable[str], width: int) -> None:
        self.width = width
        table = bytearray(256)
        self._strings_by_prefix: dict[bytes, list[str]] = {}
        for string in strings:
            prefix = _folded(string)[:width]
            self._strings_by_prefix.setdefault(prefix, []).append(string)
            for offset, byte in enumerate(prefix):
                table[byte] |= 1 << offset
        self._table = bytes(table)
        self._low_bits = int.from_bytes(b"\x01" * self.BLOCK, "little")

    def occurrences(self, text: str, data: bytes) -> Iterator[tuple[str, int]]:
        """``(string, start)`` of every occurrence in ``text``, whose ``_folded`` is ``data``."""
        if not self._strings_by_prefix:
            return
        width = self.width
        for block_start in range(0, len(data), self.BLOCK):
            block = data[block_start : block_start + self.BLOCK + width - 1]
            bits = int.from_bytes(block.translate(self._table), "little")
            starts = bits
            for offset in range(1, width):
                starts &= bits >> (9 * offset)  # bit ``offset`` of byte ``i + offset`` onto bit 0 of byte ``i``
            starts &= self._low_bits
            if not starts:
                continue
            marks = starts.to_bytes(len(block), "little")
            position = marks.find(1)
            while position >= 0:
                start = block_start + position
                for string in self._strings_by_prefix.get(data[start : start + width], ()):
                    if text.startswith(string, start):
                        yield string, start
                position = marks.find(1, position + 1)


class _GramIndex:
    """Every occurrence of strings at least ``stride + width - 1`` long, found by looking up grams of the text.

    Wherever such a string occurs it covers a whole ``width``-character gram of the text that starts at a
    multiple of ``stride``, at an offset below ``stride`` into the string. So the index holds each string's
    grams at offsets ``0 .. stride - 1``, and a scan looks up only the text's grams at multiples of ``stride``:
    the text's bytes read as an array of machine integers, every ``stride // width``-th one hashed and looked up
    in a bitmap of the index's grams' hashes, in numpy's C loops; the few that pass are looked up exactly and
    each hit checked against the text. Strings and text are both read through ``_folded``, so an occurrence always shows as a hit.
    """

    def __init__(self, strings: Iterable[str], width: int, stride: int) -> None:
        self.width = width
        self.stride = stride
        self.dtype = numpy.dtype(f"<u{width}")
        strings_by_gram: dict[int, list[tuple[str, int]]] = {}
        for string in strings:
            data = _folded(string)
            for offset in range(stride):
                gram = int.from_bytes(data[offset : offset + width], "little")
                strings_by_gram.setdefault(gram, []).append((string, offset))
        self._strings_by_gram = {gram: tuple(strings) for gram, strings in strings_by_gram.items()}
        self._filter = numpy.zeros(1 << self.FILTER_BITS, dtype=bool)
        self._filter[self._hash(numpy.array(list(strings_by_gram), dtype=self.dtype))] = True

    FILTER_BITS = 22  # a bit per hash of a gram: a few per cent of the text's grams pass where none match
    _MULTIPLIER = numpy.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing: the high bits mix every byte

    def _hash(self, grams: numpy.ndarray) -> numpy.ndarray:
        return (grams.astype(numpy.uint64) * self._MULTIPLIER) >> numpy.uint64(64 - self.FILTER_BITS)

    def occurrences(self, text: str, data: bytes) -> set[tuple[str, int]]:
        """``(string, start)`` of every occurrence in ``text``, whose ``_folded`` is ``data``."""
        found: set[tuple[str, int]] = set()
        if not self._strings_by_gram:
            return found
        sampled = numpy.frombuffer(data, dtype=self.dtype, count=len(data) // self.width)[:: self.stride // self.width]
        for index in numpy.flatnonzero(self._filter[self._hash(sampled)]).tolist():
            strings = self._strings_by_gram.get(int(sampled[index]))
            if not strings:
                continue
            position = index * self.stride
            for string, offset in strings:
                start = position - offset
                if start >= 0 and text.startswith(string, start):
                    found.add((string, start))
        return found


class _Occurrences:
    """Where each of a set of strings occurs in a text, every occurrence, overlapping ones included.

    One Aho-Corasick pass over all the variants costs about one comparison per child of the automaton's root
    per character, and the variants of a few accounts start with nearly every character. So the strings are
    split by length: the short ones go through prefix filters (a few passes of big-integer arithmetic over
    the whole text, in C), the longer ones through gram indexes, which look at one machine word of the text
    per ``stride`` characters; the longer the strings, the longer the stride.
    """

    SHORT_BELOW = 7  # a prefix filter on the shortest one's length (at most 4 characters) for these
    MID_FROM = 11  # a prefix filter on 7 characters between, 4-character grams every 8 characters from here
    LONG_FROM = 23  # 8-character grams every 16 characters for these

    def __init__(self, strings: Iterable[str]) -> None:
        strings = [string for string in strings if string]
        short = [string for string in strings if len(string) < self.SHORT_BELOW]
        self._filters = [
            _PrefixFilter(short, min([4, *map(len, short)])),
            _PrefixFilter([string for string in strings if self.SHORT_BELOW <= len(string) < self.MID_FROM], 7),
        ]
        self._indexes = [
            _GramIndex([string for string in strings if self.MID_FROM <= len(string) < self.LONG_FROM], 4, 8),
            _GramIndex([string for string in strings if len(string) >= self.LONG_FROM], 8, 16),
        ]

    def find(self, text: str) -> Iterator[tuple[str, int]]:
        """``(string, start)`` pairs, each once, in no particular order."""
        data = _folded(text)
        for prefix_filter in self._filters:
            yield from prefix_filter.occurrences(text, data)
        if len(text) >= self.MID_FROM:
            for index in self._indexes:
                yield from index.occurrences(text, data)


class PiiMatcher:
    """All variants of all given fields, found in a text in one scan.

    ``min_length``: variants shorter than this are not searched at all. ``distinctive_length``:
    variants shorter than this (or purely numeric) follow the precision rule in the module docstring.
    """

    def __init__(
        self,
        fields: Iterable[PiiField],
        depth: int = 2,
        min_length: int = 4,
        distinctive_length: int = 6,
    ) -> None:
        self.fields = tuple(fields)
        self.depth = depth
        self.min_length = min_length
        self.distinctive_length = distinctive_length
        self._hints = {(f.account, f.field): key_hints(f) for f in self.fields}
        owners_by_text: dict[str, dict[tuple[str, str], PiiVariant]] = {}
        for pii_field in self.fields:
            for variant in pii_variants(pii_field, depth, distinctive_length):
                if len(variant.text) >= min_length:
                    owners = owners_by_text.setdefault(variant.text, {})
                    owners.setdefault((variant.account, variant.field), variant)
        self._owners = {text: tuple(owners.values()) for text, owners in owners_by_text.items()}
        self._ambiguous = {text for text in self._owners if self.is_ambiguous(text)}
        self._occurrences = _Occurrences(self._owners)
        self._longest = max(map(len, self._owners), default=0)

    @property
    def variant_count(self) -> int:
        return len(self._owners)

    def variants(self) -> Iterator[PiiVariant]:
        for owners in self._owners.values():
            yield from owners

    def is_ambiguous(self, text: str) -> bool:
        return len(text) < self.distinctive_length or _NUMERIC.fullmatch(text) is not None

    def scan(
        self, text: str, location: str, key: str | None = None, changed: list[tuple[int, int]] | None = None
    ) -> list[PiiMatch]:
        """Every variant in ``text``. ``key`` names what the whole text is the value of, if anything
        (a cookie, header, storage key or parameter name): a key hint for the precision rule.

        ``changed``: spans of ``text`` (in order, not overlapping, possibly empty) outside which it is a copy
        of a text scanned before, a stretch of ``text`` for a stretch of that text, the start and end of both
        included only where no change is. Then only the matches near a change are returned, exactly those of
        a whole scan that are: a match further away decides the same way in the copy, because whether it
        counts depends on ``CONTEXT`` characters around it and on the matches that contain it (within the
        longest variant's length), all inside the copy. The matches near a change, and those containing
        them, are found in a window around it.
        """
        if not self._owners or not text:
            return []
        if changed is None:
            windows = [(0, len(text))]
        else:
            windows = self._windows(changed, len(text))
        matches = []
        for low, high in windows:
            window = text if (low, high) == (0, len(text)) else text[low:high]
            for variant_text, window_start in self._occurrences.find(window):
                start = low + window_start
                end = start + len(variant_text)
                ambiguous = variant_text in self._ambiguous
                for variant in self._owners[variant_text]:
                    if ambiguous and not self._is_unambiguous_here(text, start, end, variant, key):
                        continue
                    matches.append(
                        PiiMatch(variant.account, variant.field, variant.text, variant.chain, location, start, end)
                    )
        kept = _without_contained(matches)
        if changed is not None:
            kept = [match for match in kept if self._is_near(match, changed)]
        return kept

    CONTEXT = 66  # ``_key_before`` reads 64 characters before a match, ``_is_delimited`` one on each side

    @property
    def _reach(self) -> int:
        """How near a change a match must be for the change to matter: the context of any match that
        contains it."""
        return self._longest + self.CONTEXT

    def _windows(self, changed: list[tuple[int, int]], length: int) -> list[tuple[int, int]]:
        margin = self._reach + self._longest
        windows: list[tuple[int, int]] = []
        for start, end in changed:
            low, high = max(0, start - margin), min(length, end + margin)
            if windows and low <= windows[-1][1]:
                windows[-1] = (windows[-1][0], high)
            else:
                windows.append((low, high))
        return windows

    def _is_near(self, match: PiiMatch, changed: list[tuple[int, int]]) -> bool:
        index = bisect_left(changed, match.start - self._reach, key=lambda span: span[1])
        return index < len(changed) and changed[index][0] <= match.end + self._reach

    def _is_unambiguous_here(self, text: str, start: int, end: int, variant: PiiVariant, key: str | None) -> bool:
        if not _is_delimited(text, start, end):
            return False
        if variant.is_full_date:
            return True
        hints = self._hints[(variant.account, variant.field)]
        nearby_keys = [_key_before(text, start), key]
        return any(k is not None and key_resembles(k, hints) for k in nearby_keys)
