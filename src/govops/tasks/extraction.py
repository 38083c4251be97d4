"""Proposed tasks read from the Vietnamese text of a directive, by rules; an analyst reviews and confirms them.

A directive assigns work in sentences shaped alike: "Bộ Tài chính chủ trì, phối hợp với Bộ Tư pháp hoàn thiện
... trước ngày 30/6/2025". The text is cut into clauses (numbered items, sentences, semicolons); a clause that
names an agency of the catalogue and carries an action verb is a task. Its lead is the agency before "chủ trì"
(else the one the clause opens with, else the heading it sits under: "3. Bộ Công Thương:"); the agencies after
"phối hợp với" co-ordinate; the deadline is a date ("trước ngày 30/6/2025"), the end of a month, quarter or year
("trong tháng 9/2025", "trong quý III", "năm 2025"), or a recurrence ("hằng tháng", "hằng quý", "thường
xuyên"). Names are matched on folded text (no tone marks, no case), so "Hoá"/"Hóa" and "UBND"/"Ủy ban nhân
dân" read alike. Measured by bench/extraction.py against hand-labelled excerpts under tests/tasks/directives/.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from govops.tasks.schemas import ProposedTask, Recurrence
from govops.text import fold

# Verbs that open the work a clause assigns (folded). Longest first where one begins another.
ACTION_VERBS = tuple(
    sorted(
        {
            "hoan thien",
            "hoan thanh",
            "xay dung",
            "trinh",
            "ban hanh",
            "ra soat",
            "to chuc",
            "trien khai",
            "bao cao",
            "day nhanh",
            "nghien cuu",
            "sua doi",
            "kiem tra",
            "chi dao",
            "tap trung",
            "don doc",
            "thuc hien",
            "huong dan",
            "theo doi",
            "bao dam",
            "dam bao",
            "khan truong",
            "tang cuong",
            "giai ngan",
            "xu ly",
            "tong hop",
            "de xuat",
            "chuan bi",
            "cung cap",
            "cong bo",
            "ung pho",
            "so tan",
            "di doi",
            "kiem soat",
            "tham dinh",
            "giam sat",
            "cap nhat",
            "danh gia",
            "thanh tra",
            "quyet liet",
            "dieu chinh",
            "phan bo",
            "khoi cong",
            "dua vao",
            "van hanh",
            "chu dong",
            "tiep thu",
            "go vuong",
            "thao go",
            "lap",
            "san sang",
            "cat giam",
            "don gian hoa",
            "ket noi",
            "chia se",
            "so ket",
            "tong ket",
            "phe duyet",
            "bo tri",
            "huy dong",
            "dieu hanh",
            "gui",
            "ra quyet dinh",
            "phat trien",
            "khac phuc",
            "ho tro",
            "trien khai thi hang",
            "nang cap",
            "hoan tat",
            "dang tai",
        },
        key=len,
        reverse=True,
    )
)
_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "1": 1, "2": 2, "3": 3, "4": 4}
_NUMBERING = re.compile(r"^\s*(?:\(?[0-9]+(?:\.[0-9]+)*[.)]|\(?[a-zđ][.)]|[-\u2013•+])\s*", re.IGNORECASE)
_OPENERS = ("giao ", "yeu cau ", "de nghi ", "dong chi ", "chu tich ", "bo truong ", "thu truong ", "giam doc ")


@dataclass(frozen=True)
class Name:
    folded: str
    code: str


@dataclass(frozen=True)
class Lexicon:
    """Agency names (and their usual short forms), folded, longest first; province names for lists."""

    names: tuple[Name, ...]
    provinces: tuple[Name, ...]

    @classmethod
    def of(cls, agencies: Iterable[tuple[str, str]]) -> Lexicon:
        names: dict[str, str] = {}
        provinces: dict[str, str] = {}
        for code, name in agencies:
            full = fold_aligned(name)
            names.setdefault(full, code)
            if full.endswith(" viet nam"):  # "Ngân hàng Nhà nước Việt Nam" is "Ngân hàng Nhà nước" in directives
                names.setdefault(full.removesuffix(" viet nam"), code)
            for prefix in ("uy ban nhan dan ",):
                if full.startswith(prefix):
                    rest = full.removeprefix(prefix)  # "tinh quang ninh", "thanh pho ha noi"
                    names.setdefault("ubnd " + rest, code)
                    names.setdefault(rest, code)
                    short = rest.removeprefix("tinh ").removeprefix("thanh pho ")
                    provinces.setdefault(short, code)
                    names.setdefault("tp " + short, code)
                    names.setdefault("tp. " + short, code)
        ordered = sorted((Name(k, v) for k, v in names.items()), key=lambda n: -len(n.folded))
        ordered_provinces = sorted((Name(k, v) for k, v in provinces.items()), key=lambda n: -len(n.folded))
        return cls(tuple(ordered), tuple(ordered_provinces))


def fold_aligned(text: str) -> str:
    """`fold`, one character for one: positions in the folded text are positions in the (NFC) original."""
    out = []
    for char in unicodedata.normalize("NFC", text):
        folded = fold(char)
        out.append(folded if len(folded) == 1 else char.lower())
    return "".join(out)


@dataclass(frozen=True)
class Mention:
    start: int
    end: int
    code: str


def mentions(folded: str, names: Sequence[Name]) -> list[Mention]:
    """Every agency named in the folded text, longest name first, never two over the same characters."""
    taken = [False] * len(folded)
    found: list[Mention] = []
    for name in names:
        for match in re.finditer(r"(?<![a-z0-9])" + re.escape(name.folded) + r"(?![a-z0-9])", folded):
            if not any(taken[match.start() : match.end()]):
                found.append(Mention(match.start(), match.end(), name.code))
                for i in range(match.start(), match.end()):
                    taken[i] = True
    return sorted(found, key=lambda m: m.start)


# --- deadlines ------------------------------------------------------------------------------------

_DATE = r"(\d{1,2})\s*(?:/|-|\.|\s+thang\s+)\s*(\d{1,2})(?:\s*(?:/|-|\.|\s+nam\s+)\s*(\d{4}))?"
_DEADLINE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("monthly", re.compile(r"\b(?:hang|dinh ky hang) thang\b")),
    ("quarterly", re.compile(r"\b(?:hang|dinh ky hang) quy\b")),
    ("regular", re.compile(r"\bthuong xuyen\b|\bhang nam\b|\bhang tuan\b|\bdinh ky\b")),
    ("date", re.compile(r"\b(?:truoc|cham nhat|han chot|xong truoc|trong|den)\s+(?:ngay\s+)?" + _DATE)),
    ("date", re.compile(r"\bngay\s+" + _DATE)),
    ("month", re.compile(r"\b(?:trong|truoc het|cuoi|het|den het)\s+thang\s+(\d{1,2})(?:\s*(?:/|nam)\s*(\d{4}))?")),
    ("quarter", re.compile(r"\bquy\s+(iv|iii|ii|i|[1-4])\b(?:\s*(?:/|nam)\s*(\d{4}))?")),
    ("year", re.compile(r"\b(?:trong|truoc|cuoi|het|den het)\s+nam\s+(\d{4})\b")),
)


@dataclass(frozen=True)
class Deadline:
    recurrence: str  # once, monthly, quarterly, regular
    on: date | None
    start: int
    end: int


def _valid(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _month_end(year: int, month: int) -> date | None:
    return date(year, month, calendar.monthrange(year, month)[1]) if 1 <= month <= 12 else None


def find_deadline(folded: str, *, year: int) -> Deadline | None:
    """The first deadline the folded clause states (a recurrence wins over a date it qualifies)."""
    for kind, pattern in _DEADLINE_PATTERNS:
        match = pattern.search(folded)
        if match is None:
            continue
        groups = match.groups()
        on: date | None = None
        if kind in ("monthly", "quarterly", "regular"):
            return Deadline(kind, None, match.start(), match.end())
        if kind == "date":
            on = _valid(int(groups[2] or year), int(groups[1]), int(groups[0]))
        elif kind == "month":
            on = _month_end(int(groups[1] or year), int(groups[0]))
        elif kind == "quarter":
            quarter = _ROMAN[groups[0]]
            on = _month_end(int(groups[1] or year), quarter * 3)
        elif kind == "year":
            on = date(int(groups[0]), 12, 31)
        if on is not None:
            return Deadline("once", on, match.start(), match.end())
    return None


# --- clauses --------------------------------------------------------------------------------------


def clauses(text: str) -> list[str]:
    """Lines, then sentences (a full stop before a capital) and semicolons; numbering is kept for headings."""
    out: list[str] = []
    for line in unicodedata.normalize("NFC", text).splitlines():
        line = line.strip()
        if not line:
            continue
        for sentence in re.split(r"(?<=[.;])\s+(?=[A-ZĐÀ-Ỹ])|;\s*", line):
            if sentence.strip():
                out.append(sentence.strip())
    return out


def _first_verb(folded: str, start: int) -> int | None:
    best: int | None = None
    for verb in ACTION_VERBS:
        match = re.compile(r"(?<![a-z])" + re.escape(verb) + r"(?![a-z])").search(folded, start)
        if match is not None and (best is None or match.start() < best):
            best = match.start()
    return best


def _heading(clause: str, folded: str, found: list[Mention]) -> str | None:
    """The agency of a heading line such as "3. Bộ Công Thương:" (an agency and little else)."""
    body = _NUMBERING.sub("", folded).strip().rstrip(":").strip()
    if len(found) == 1 and (
        body.endswith(fold_aligned(clause)[found[0].start : found[0].end]) or folded.rstrip().endswith(":")
    ):
        rest = body.replace(folded[found[0].start : found[0].end], "").strip(" ,:")
        if len(rest) <= 12:
            return found[0].code
    return None


def extract(text: str, *, agencies: Iterable[tuple[str, str]], year: int) -> list[ProposedTask]:
    """The tasks a directive's text assigns, as proposals (nothing stored)."""
    lexicon = Lexicon.of(agencies)
    heading: str | None = None
    proposals: list[ProposedTask] = []
    for clause in clauses(text):
        folded = fold_aligned(clause)
        found = mentions(folded, lexicon.names)
        head = _heading(clause, folded, found)
        if head is not None:
            heading = head
            continue
        if found and re.match(r"^\s*\(?\d", folded):
            # A new numbered item (1., 2.) naming its own agency ends the heading's reach; lettered ones keep it.
            heading = None
        proposal = _proposal(clause, folded, found, lexicon, heading=heading, year=year)
        proposals.extend(proposal)
    return proposals


def _proposal(
    clause: str, folded: str, found: list[Mention], lexicon: Lexicon, *, heading: str | None, year: int
) -> list[ProposedTask]:
    numbering = _NUMBERING.match(folded)
    start = len(numbering.group()) if numbering else 0
    for opener in _OPENERS:
        if folded[start:].startswith(opener):
            start += len(opener)
    deadline = find_deadline(folded, year=year)
    # Where the agencies end and the work begins: the first action verb after "chủ trì"/"phối hợp" and the names.
    lead: str | None = None
    coordinating: list[str] = []
    chair = re.search(r"\bchu tri\b", folded)
    helper = re.search(r"\bphoi hop\s+(?:voi\s+|cung\s+(?!cap\b))?", folded)
    if chair is not None:
        before = [m for m in found if m.end <= chair.start()]
        lead = before[-1].code if before else heading
    else:
        opening = [m for m in found if m.start <= start + 2]
        lead = opening[0].code if opening else None
    province_leads: list[str] = []
    if lead is None:
        many = re.search(r"\b(?:uy ban nhan dan|ubnd)\s+cac tinh(?:,\s*thanh pho)?[^:]*:\s*", folded)
        if many is not None:
            listed_to = _first_verb(folded, many.end()) or len(folded)
            listed = mentions(folded[many.end() : listed_to], lexicon.provinces)
            province_leads = list(dict.fromkeys(m.code for m in listed))
            start = listed_to
    if lead is None and not province_leads:
        lead = heading
    if lead is None and not province_leads:
        return []
    work_from = start
    if chair is not None:
        work_from = max(work_from, chair.end())
    if helper is not None and helper.start() >= start - 1:
        helpers_to = _first_verb(folded, helper.end())
        span_end = helpers_to if helpers_to is not None else len(folded)
        coordinating = [m.code for m in found if helper.end() <= m.start < span_end and m.code != lead]
        work_from = max(work_from, span_end)
    elif chair is None:
        # "Bộ A, Bộ B làm ...": the first named leads, the others named with it before the work co-ordinate.
        work_at = _first_verb(folded, start)
        span_end = work_at if work_at is not None else len(folded)
        leading = [m for m in found if m.start < span_end]
        if leading and leading[0].start <= start + 2:
            coordinating = [m.code for m in leading[1:] if m.code != lead]
            work_from = max(work_from, leading[-1].end)
    verb_at = _first_verb(folded, work_from)
    if verb_at is None:
        return []
    action_end = len(folded)
    if deadline is not None and deadline.start > verb_at:
        action_end = deadline.start
    action = clause[verb_at:action_end].strip(" ,.;:-\u2013")
    if not action:
        return []
    names = [clause[m.start : m.end] for m in found]
    leads = province_leads or ([lead] if lead is not None else [])
    recurrence: Recurrence = "once"
    if deadline is not None and deadline.recurrence in ("monthly", "quarterly", "regular"):
        recurrence = deadline.recurrence  # type: ignore[assignment]
    return [
        ProposedTask(
            text=clause.strip(),
            action=action,
            lead=code,
            coordinating=list(dict.fromkeys(coordinating)),
            agency_names=names,
            deadline=deadline.on if deadline else None,
            recurrence=recurrence,
            deadline_text=clause[deadline.start : deadline.end] if deadline else None,
        )
        for code in leads
    ]
