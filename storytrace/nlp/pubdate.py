"""Infer a publication date from an article's own temporal references, with a confidence and the evidence.

Candidate dates come from absolute dates the article mentions ("Sunday February 26": only years in which
26 February is a Sunday), and from ``near``: dates of related articles (the caller's choice, e.g. dated
articles of the same story). Each candidate is scored by how naturally the article's expressions read if
it were published that day: "on Sunday" (past) reads best one day later, "comes out on Wednesday"
(future) two days before, a past event dated after the candidate ("The next day" after 26 February said
in the past tense) contradicts it. The lowest cost wins; the margin to the runner-up sets the confidence.
Without an absolute date or a related article's date there is nothing to place the week in: None.

Weekday evidence ("on Tuesday", "on Monday night") reads equally well one week either side, so the week
comes from outside the article. The better outside evidence is ``reported``: the dates of events, dated
by other articles, that the article's lead reports (a news article is published when its news happened:
"after an overwhelming vote of no confidence" and another outlet's "lost a vote of no confidence last
week"). When there is such an event, it places the article instead of the related articles' own dates
(which only say when the story was being written about, not when this article's news happened).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from storytrace.nlp import timex

# How strongly a related article's date pulls (cost per day, capped at two weeks).
NEAR_WEIGHT = 0.3
NEAR_CAP_DAYS = 14
# How strongly the date of an event the article reports pulls (cost per day outside the event's days,
# the day after it included), capped like NEAR_CAP_DAYS.
EVENT_WEIGHT = 0.5


@dataclass(frozen=True)
class Inferred:
    value: str  # ISO date
    confidence: float
    evidence: tuple[tuple[int, int, str], ...]  # (start, end, text) offsets into the text given
    note: str

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "source": "inferred", "confidence": round(self.confidence, 2),
                "evidence": [{"start": s, "end": e, "text": t} for s, e, t in self.evidence], "note": self.note}


def _weekday_cost(days: int, direction: int) -> float:
    if direction < 0:  # "on Sunday" (past): most often yesterday or the day before; today is unusual
        return 2.0 if days == 0 else days - 1.0
    # Future: one day ahead is usually "tomorrow", so a named weekday is most often two or more days ahead.
    return 1.5 if days == 1 else abs(days - 2.0)


def _candidates(found: list[timex.Found], near: Sequence[date],
                reported: Sequence[tuple[date, date]] = ()) -> set[date]:
    out: set[date] = set()
    years = sorted({n.year + k for n in near for k in (-1, 0, 1)}) or list(range(1990, 2036))
    for f in found:
        ref = f.ref
        day: list[date] = []
        if ref.kind == "abs" and ref.type == "DATE" and (d := timex._date_of(ref.value)) is not None:
            day = [d]
        elif ref.kind == "monthday" and ref.day and (ref.weekday or near):
            for year in years:
                try:
                    d = date(year, ref.n, ref.day)
                except ValueError:
                    continue
                if not ref.weekday or d.isoweekday() == ref.weekday:
                    day.append(d)
        for d in day:
            out.update(d + timedelta(days=k) for k in range(-3, 31))
    for n in near:
        out.update(n + timedelta(days=k) for k in range(-NEAR_CAP_DAYS, NEAR_CAP_DAYS + 1))
    for first, last in reported:
        out.update(first + timedelta(days=k) for k in range(-NEAR_CAP_DAYS, (last - first).days + NEAR_CAP_DAYS + 1))
    return out


def _outside(candidate: date, first: date, last: date) -> int:
    """Days from ``candidate`` to the event's days (the day after it included: reported next morning)."""
    if candidate < first:
        return (first - candidate).days
    return max(0, (candidate - last).days - 1)


def _cost(candidate: date, found: list[timex.Found], tenses: list[int],
          near: Sequence[date], reported: Sequence[tuple[date, date]] = ()) -> tuple[float, list[int]]:
    cost = 0.0
    used: list[int] = []
    previous: date | None = None
    for i, f in enumerate(found):
        type_, value, anchor = timex.resolve(f.ref, candidate, previous)
        d = timex._date_of(value)
        if d is None or type_ not in ("DATE", "TIME"):
            continue
        previous = d
        if f.ref.kind == "weekday" and f.ref.direction in (-1, 1):
            cost += _weekday_cost(abs((d - candidate).days), f.ref.direction)
            used.append(i)
        elif f.ref.kind in ("abs", "monthday", "prev") and (f.ref.kind != "prev" or anchor == "previous"):
            gap = (candidate - d).days
            if tenses[i] < 0:  # told as past: it happened on or before publication
                cost += 10.0 + -gap if gap < 0 else min(gap, 30) * 0.2
            else:
                cost += 10.0 + gap if gap > 0 else 0.0
            used.append(i)
    if reported:
        cost += EVENT_WEIGHT * min(min(_outside(candidate, a, b), NEAR_CAP_DAYS) for a, b in reported)
    elif near:
        cost += NEAR_WEIGHT * min(min(abs((candidate - n).days), NEAR_CAP_DAYS) for n in near)
    return cost, used


def infer(text: str, *, near: Sequence[date] = (), reported: Sequence[tuple[date, date]] = ()) -> Inferred | None:
    """Estimate when ``text`` was published; None when nothing in it (and no related date) supports one.

    ``near``: dates of related articles; ``reported``: (first, last day) of events dated elsewhere that the
    article's lead reports (see the module docstring).
    """
    found = timex.scan(text)
    anchored = [f for f in found if f.ref.kind in ("weekday", "monthday", "prev")
                or (f.ref.kind == "abs" and timex._date_of(f.ref.value) is not None)]
    if not anchored:
        return None
    candidates = _candidates(found, near, reported)
    if not candidates:
        return None
    tenses = [timex.tense(text, f.start, f.end)[0] for f in found]
    scored = sorted(((*_cost(c, found, tenses, near, reported), c) for c in candidates),
                    key=lambda t: (round(t[0], 6), min((abs((t[2] - n).days) for n in near), default=0), t[2]))
    best_cost, used, best = scored[0]
    if not used:
        return None
    if any(abs((s[2] - best).days) > 30 and s[0] <= best_cost + 1e-9 for s in scored[1:]):
        return None  # as good in another month or year: the text cannot tell which
    runner_up = next((s[0] for s in scored[1:] if abs((s[2] - best).days) > 1), best_cost + 3.0)
    margin = runner_up - best_cost
    has_absolute = any(found[i].ref.kind in ("abs", "monthday") for i in used)
    base = 0.8 if has_absolute else 0.6
    confidence = base * min(1.0, 0.4 + margin / 3.0) * min(1.0, 0.6 + 0.1 * len(used))
    evidence = tuple((found[i].start, found[i].end, found[i].text) for i in used)
    note = f"{len(used)} temporal reference(s) read best on {best.isoformat()}"
    if reported:
        note += f"; placed by {len(reported)} event(s) its lead reports, dated by other articles"
    elif near:
        note += f"; placed near {len(near)} related article date(s)"
    return Inferred(best.isoformat(), round(confidence, 2), evidence, note)
