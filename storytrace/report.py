"""The corpus report: what is in the store and what each stage produced, as Markdown, HTML or JSON."""

from __future__ import annotations

import html
import json
from typing import Any

from storytrace.errors import InputError
from storytrace.stages import CORPUS_STAGES, STAGES
from storytrace.store import Store

# A report lists articles one by one only up to this many; beyond, it says how many it left out.
MAX_LISTED = 500
FORMATS = ("markdown", "html", "json")


def build(store: Store) -> dict[str, Any]:
    """Collect the report's figures from the store (bounded work at any corpus size)."""
    data = store.overview()
    rows = store.list_articles(limit=MAX_LISTED)
    data["listed"] = [row.__dict__ for row in rows]
    data["unlisted"] = max(0, data["articles"] - len(rows))
    data["stage_catalogue"] = {
        **{s.name: s.description for s in STAGES.values()},
        **{s.name: s.description for s in CORPUS_STAGES.values()},
    }
    people = store.corpus_result("people")
    data["people"] = people[1]["people"][:25] if people else []
    data["corpus_stages_done"] = [name for name in CORPUS_STAGES if store.corpus_result(name) is not None]
    speakers = store.corpus_result("speakers")
    data["speakers"] = speakers[1]["speakers"][:25] if speakers else []
    runs = store.runs(limit=5)
    data["runs"] = [{k: r[k] for k in ("id", "command", "started_at", "finished_at", "status", "counts")} for r in runs]
    data["errors"] = [str(e) for e in store.ingest_errors()][:100]
    data["stage_errors"] = [{"article": a, "stage": s, "error": e} for a, s, e in store.stage_errors(limit=50)]
    return data


def render(data: dict[str, Any], *, format: str = "markdown") -> str:
    if format == "json":
        return json.dumps(data, ensure_ascii=False, indent=2)
    if format == "markdown":
        return _markdown(data)
    if format == "html":
        return _html(data)
    raise InputError(f"unknown report format {format!r}; choose one of {', '.join(FORMATS)}", code="E120")


def _date_span(data: dict[str, Any]) -> str:
    if not data["first_published"]:
        return "no publication dates known"
    return f"{data['first_published']} to {data['last_published']}"


def _article_cells(row: dict[str, Any]) -> list[str]:
    published = row["published"] or "unknown"
    if row["published"] and row["published_source"]:
        published += f" ({row['published_source']})"
    return [str(row["num"]), row["id"], row["title"] or "(no title)", row["outlet"] or "(unknown)", published,
            str(row["words"]), str(row["removed"])]


_ARTICLE_HEAD = ["#", "id", "title", "outlet", "published (from)", "words", "removed lines"]


def _stage_lines(data: dict[str, Any]) -> list[tuple[str, str]]:
    lines = []
    for name, description in data["stage_catalogue"].items():
        stats = data["stages"].get(name)
        if name in data["corpus_stages_done"]:
            lines.append((name, f"{description}: computed over the corpus"))
            continue
        if stats is None:
            lines.append((name, f"{description}: not run yet"))
            continue
        totals = ", ".join(f"{k} {v}" for k, v in sorted(stats["totals"].items()))
        text = f"{description}: {stats['done']} articles done, {stats['error']} failed"
        lines.append((name, text + (f"; {totals}" if totals else "")))
    return lines


def _markdown(data: dict[str, Any]) -> str:
    out = ["# storytrace corpus report", ""]
    out.append(
        f"{data['articles']} articles ({data['words']} words) from {data['sources']} sources; "
        f"published {_date_span(data)}."
    )

    out += ["", "## Outlets", "", "| outlet | articles |", "|---|---|"]
    out += [f"| {o['outlet']} | {o['articles']} |" for o in data["outlets"]]
    out += ["", "## Where metadata came from", "", "| field | " + " | ".join(["sources"]) + " |", "|---|---|"]
    for field, counts in data["metadata_sources"].items():
        out.append(f"| {field} | " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) + " |")
    out += ["", "## Removed lines (boilerplate and chrome)", ""]
    if data["removed_lines"]:
        out += ["| reason | lines |", "|---|---|"]
        out += [f"| {r} | {n} |" for r, n in sorted(data["removed_lines"].items())]
    else:
        out.append("None.")
    out += ["", "## Analysis", ""]
    out += [f"- **{name}**: {text}" for name, text in _stage_lines(data)]
    if data["speakers"]:
        out += ["", "## Who is quoted most", "", "| speaker | quotes | articles |", "|---|---|---|"]
        out += [f"| {p['name']} | {p['quotes']} | {p['articles']} |" for p in data["speakers"]]
    if data["people"]:
        out += ["", "## People named most often", "", "| person | articles |", "|---|---|"]
        out += [f"| {p['name']} | {p['articles']} |" for p in data["people"]]
    out += ["", "## Articles", "", "| " + " | ".join(_ARTICLE_HEAD) + " |", "|" + "---|" * len(_ARTICLE_HEAD)]
    for row in data["listed"]:
        out.append("| " + " | ".join(c.replace("|", "\\|") for c in _article_cells(row)) + " |")
    if data["unlisted"]:
        out.append(f"\n…and {data['unlisted']} more (see `storytrace articles`).")
    if data["errors"]:
        out += ["", "## Input errors in the last ingest", ""] + [f"- {e}" for e in data["errors"]]
    if data["stage_errors"]:
        out += ["", "## Stage errors", ""]
        out += [f"- {e['article']} ({e['stage']}): {e['error']}" for e in data["stage_errors"]]
    return "\n".join(out) + "\n"


def _table(head: list[str], rows: list[list[str]]) -> str:
    esc = html.escape
    th = "".join(f"<th>{esc(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def _html(data: dict[str, Any]) -> str:
    esc = html.escape
    parts = [
        f"<p>{data['articles']} articles ({data['words']} words) from {data['sources']} sources; "
        f"published {esc(_date_span(data))}.</p>",
        "<h2>Outlets</h2>",
        _table(["outlet", "articles"], [[o["outlet"], str(o["articles"])] for o in data["outlets"]]),
        "<h2>Where metadata came from</h2>",
        _table(["field", "sources"], [[f, ", ".join(f"{k} {v}" for k, v in sorted(c.items()))]
                                      for f, c in data["metadata_sources"].items()]),
        "<h2>Removed lines</h2>",
        _table(["reason", "lines"], [[r, str(n)] for r, n in sorted(data["removed_lines"].items())]),
        "<h2>Analysis</h2><ul>",
        *(f"<li><b>{esc(n)}</b>: {esc(t)}</li>" for n, t in _stage_lines(data)),
        "</ul>",
    ]
    if data["speakers"]:
        parts += ["<h2>Who is quoted most</h2>",
                  _table(["speaker", "quotes", "articles"],
                         [[p["name"], str(p["quotes"]), str(p["articles"])] for p in data["speakers"]])]
    if data["people"]:
        parts += ["<h2>People named most often</h2>",
                  _table(["person", "articles"], [[p["name"], str(p["articles"])] for p in data["people"]])]
    parts += ["<h2>Articles</h2>", _table(_ARTICLE_HEAD, [_article_cells(r) for r in data["listed"]])]
    if data["unlisted"]:
        parts.append(f"<p>…and {data['unlisted']} more.</p>")
    if data["errors"]:
        parts += ["<h2>Input errors in the last ingest</h2><ul>", *(f"<li>{esc(e)}</li>" for e in data["errors"]),
                  "</ul>"]
    style = (
        "body{font-family:system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;color:#222}"
        "table{border-collapse:collapse;margin:.5rem 0 1.5rem}td,th{border:1px solid #ccc;padding:.25rem .5rem;"
        "text-align:left;vertical-align:top}th{background:#f3f3f3}"
    )
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        "<meta http-equiv=Content-Security-Policy content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        f"<title>storytrace corpus report</title><style>{style}</style></head><body>"
        "<h1>storytrace corpus report</h1>" + "".join(parts) + "</body></html>\n"
    )


def render_story(data: dict[str, Any], *, format: str = "markdown") -> str:
    """A story page: the cited brief, who stands where (with changes), and facts across outlets."""
    if format == "json":
        return json.dumps(data, ensure_ascii=False, indent=2)
    if format not in FORMATS:
        raise InputError(f"unknown report format {format!r}; choose one of {', '.join(FORMATS)}", code="E120")
    head, brief = data["story"], data["brief"]
    numbers = {aid: i + 1 for i, aid in enumerate(data["articles"])}

    def cite(aid: str, start: int, end: int) -> str:
        return f"[{numbers.get(aid, '?')}:{start}-{end}]"

    lines = [f"# Story {head['story']}: {head['title']}", "",
             f"{head['size']} articles, {head['first'] or '?'} to {head['last'] or '?'}.", "", "## Brief", ""]
    lines += [f"- {s['date'] or 'undated'}: {' '.join(s['text'].split())} {cite(s['article_id'], s['start'], s['end'])}"
              for s in brief["sentences"]]
    lines += ["", f"Method: {brief['method']}.", "", "## Who stands where", "",
              "| holder | target | overall | over time | changes |", "|---|---|---|---|---|"]
    for p in data["stances"]:
        over = "; ".join(f"{t['date'] or 'undated'} {t['polarity']} "
                         + " ".join(cite(t["article_id"], e["evidence_start"], e["evidence_end"])
                                    for e in t["evidence"][:2]) for t in p["timeline"])
        changes = "; ".join(f"{c['from']} → {c['to']} ({c['from_date']} → {c['to_date']})" for c in p["changes"])
        if not changes and p.get("undated_disagreement"):
            changes = "differs across articles (some undated)"
        lines.append(f"| {p['holder']} | {p['concept'] if 'concept' in p else p['target']} | {p['overall']} | "
                     f"{over.replace('|', '/')} | {changes} |")
    lines += ["", "## Facts across outlets", "", "| fact | counts | status | cited in | also reported by |",
              "|---|---|---|---|---|"]
    for f in data["facts"]:
        cited = ", ".join(f"“{c['text']}” {cite(c['article_id'], c['start'], c['end'])}" for c in f["citations"])
        also = ", ".join(cite(m["article_id"], m["start"], m["end"]) for m in f["also_reported_by"]) or "-"
        lines.append(f"| {f['kind']} | {f['counts']} | {f['status']} | {cited} | {also} |")
    lines += ["", "## Articles", ""]
    lines += [f"{numbers[aid]}. {a.get('outlet') or '?'}, {(a.get('published') or 'undated')[:10]}: "
              f"{a.get('title') or '(no title)'} (id {aid})" for aid, a in data["articles"].items()]
    lines += ["", "Citations are [article number:start-end], character offsets into the article's raw text."]
    markdown = "\n".join(lines) + "\n"
    if format == "markdown":
        return markdown
    body = "".join(f"<p>{html.escape(line)}</p>" if line else "" for line in markdown.splitlines())
    return ("<!doctype html><html lang=en><head><meta charset=utf-8>"
            f"<title>storytrace story {html.escape(str(head['story']))}</title></head><body>{body}</body></html>\n")
