"""The storytrace command: argument parsing and printing only; the work is done by Corpus."""

from __future__ import annotations

import csv
import importlib
import json
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from storytrace.corpus import Corpus
from storytrace.errors import StorytraceError
from storytrace.settings import DEFAULT_DB, Settings

F = TypeVar("F", bound=Callable[..., Any])

# Exit codes: 0 all good, 1 a fatal error, 2 bad usage (click), 3 some items failed (the rest landed).
EXIT_PARTIAL = 3


def _fail_cleanly(fn: F) -> F:
    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except StorytraceError as exc:
            raise click.ClickException(str(exc)) from exc
        except KeyboardInterrupt:
            click.echo("interrupted: finished batches are saved; run the same command again to resume", err=True)
            sys.exit(130)

    return wrapper  # type: ignore[return-value]


def _corpus(ctx: click.Context, *, readonly: bool = False) -> Corpus:
    settings: Settings = ctx.obj["settings"]
    corpus = Corpus(settings=settings, readonly=readonly)
    ctx.call_on_close(corpus.close)
    return corpus


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path), envvar="STORYTRACE_DB",
              default=DEFAULT_DB, show_default=True, help="The corpus store (SQLite file). Env: STORYTRACE_DB.")
@click.option("--jobs", "-j", type=click.IntRange(1, 64), default=None,
              help="Worker processes for ingest and analysis [default: 1].")
@click.option("--progress/--no-progress", default=None, help="Progress bars [default: when on a terminal].")
@click.option("--max-item-seconds", type=click.FloatRange(min=0), default=None, metavar="SECONDS",
              help="Stop a document (ingest) or a stage on one article (analyze) using more CPU seconds than this "
                   "(or ten times as many wall seconds); it becomes that item's error and the rest goes on. "
                   "0 = no limit [default: 600]. "
                   "Env: STORYTRACE_MAX_ITEM_SECONDS.")
@click.version_option(package_name="storytrace")
@click.pass_context
def main(ctx: click.Context, db: Path, jobs: int | None, progress: bool | None,
         max_item_seconds: float | None) -> None:
    """Who said what, who stands where, and what happened when, in a pile of news articles.

    \b
    Example:
      storytrace ingest examples/
      storytrace analyze
      storytrace report --html -o report.html
    """
    ctx.ensure_object(dict)
    ctx.obj["settings"] = Settings.from_env(db=db, jobs=jobs, progress=progress, max_item_seconds=max_item_seconds)


@main.command()
@click.argument("inputs", nargs=-1, required=True)
@click.option("--manifest", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="CSV of per-file metadata (a path column plus title/url/outlet/published/author).")
@click.pass_context
@_fail_cleanly
def ingest(ctx: click.Context, inputs: tuple[str, ...], manifest: Path | None) -> None:
    """Read articles from files, folders (recursively), globs or - (stdin) into the store.

    Formats: .txt .html/.htm .json .jsonl .csv .warc(.gz), optionally .gz-compressed; metadata from
    fields, NAME.meta.json sidecars or a manifest CSV. Re-running is safe: what is stored stays once.

    \b
    Example:
      storytrace ingest articles/ --manifest articles/metadata.csv
    """
    from tqdm import tqdm

    corpus = _corpus(ctx)
    stdin = sys.stdin.buffer if "-" in inputs else None
    show = corpus.settings.progress
    with tqdm(desc="ingest", unit="doc", disable=None if show is None else not show) as bar:
        report = corpus.ingest(inputs, manifest=manifest, stdin=stdin, on_item=lambda _location: bar.update(1))
    for error in report.errors:
        click.echo(f"error: {error} [{error.code}]", err=True)
    click.echo(
        f"ingested: {report.added} new, {report.duplicates} duplicate content, {report.unchanged} unchanged, "
        f"{report.updated} updated, {report.recleaned} re-cleaned, {len(report.errors)} failed "
        f"-> {corpus.settings.db} ({corpus.store.count_articles()} articles)"
    )
    if report.errors:
        ctx.exit(EXIT_PARTIAL)


@main.command()
@click.option("--stage", "stages", multiple=True, help="Run only this stage (and what it needs). Repeatable.")
@click.option("--quote-parse/--no-quote-parse", default=None,
              help="Read indirect attributions off the parse too [default: on]; off is several times faster.")
@click.option("--quote-tagger/--no-quote-tagger", default=None,
              help="Quotations: also take the attributions of the MiniLM span tagger [default: off]; finds more, "
                   "~0.7 s more CPU per article; needs the 'embeddings' extra.")
@click.option("--nlp-model", default=None, metavar="fast|accurate|DIR",
              help="The English pipeline of entities and the quotations' parse [default: fast]; accurate (MiniLM) "
                   "finds people better and parses better, ~5x slower; needs the 'embeddings' extra.")
@click.option("--story-embeddings/--no-story-embeddings", default=None,
              help="Stories: add a title + lead sentence-embedding signal [default: off]; needs the 'embeddings' "
                   "extra, else stories fall back to words, names and time (said in the stage summary).")
@click.option("--stance-embeddings/--no-stance-embeddings", default=None,
              help="Stances: the polarity classifier also reads each candidate's sentence embedding [default: off]; "
                   "needs the 'embeddings' extra, else the classifier without it is used (said in the results).")
@click.option("--engine", type=click.Choice(["local", "spark"]), default="local", show_default=True,
              help="local: the store's articles, in this process (--jobs workers). spark: ingest and analyze "
                   "--input as a Spark job, writing Parquet to --output (load it with 'storytrace load').")
@click.option("--input", "inputs", multiple=True, help="With --engine spark: files, folders or globs (JSONL, "
              "Parquet, WARC and every format ingest reads). Repeatable.")
@click.option("--output", type=click.Path(file_okay=False, path_type=Path),
              help="With --engine spark: the folder for the Parquet tables.")
@click.option("--master", default=None, help="With --engine spark: the Spark master [default: local[*]], e.g. "
              "local[2] or spark://host:7077.")
@click.option("--partitions", type=click.IntRange(1, 100000), default=None,
              help="With --engine spark: tasks per step [default: twice the cores].")
@click.pass_context
@_fail_cleanly
def analyze(ctx: click.Context, stages: tuple[str, ...], quote_parse: bool | None, quote_tagger: bool | None,
            nlp_model: str | None, story_embeddings: bool | None,
            stance_embeddings: bool | None, engine: str, inputs: tuple[str, ...], output: Path | None,
            master: str | None, partitions: int | None) -> None:
    """Run the analysis stages that are out of date; finished work is kept if interrupted.

    With --engine spark, ingest and the per-article stages (and near-duplicates) run as one Spark job over
    --input, with no store; 'storytrace load DIR' then brings the results into the store, and a local
    'storytrace analyze' runs the remaining corpus stages.

    \b
    Example:
      storytrace --jobs 2 analyze
      storytrace analyze --no-quote-parse      # fast quotations: rules only
      storytrace analyze --quote-tagger        # quotations also from the MiniLM span tagger ('embeddings' extra)
      storytrace analyze --nlp-model accurate  # entities and parse from the MiniLM pipeline (same extra)
      storytrace analyze --story-embeddings    # stories also from sentence embeddings ('embeddings' extra)
      storytrace analyze --stance-embeddings   # the stance classifier also reads sentence embeddings (same extra)
      storytrace analyze --engine spark --master "local[2]" --input articles.jsonl --output out/
    """
    if quote_parse is not None:
        ctx.obj["settings"] = ctx.obj["settings"].replace(quote_parse=quote_parse)
    if quote_tagger is not None:
        ctx.obj["settings"] = ctx.obj["settings"].replace(quote_tagger=quote_tagger)
    if ctx.obj["settings"].quote_tagger:
        from storytrace.nlp import quotetagger

        if (why := quotetagger.unavailable()) is not None:
            raise click.UsageError(f"--quote-tagger: {why}")
    if nlp_model is not None:
        ctx.obj["settings"] = ctx.obj["settings"].replace(nlp_model=nlp_model)
    if ctx.obj["settings"].nlp_model != "fast":
        from storytrace.nlp.pipeline import unavailable

        if (why := unavailable(ctx.obj["settings"].nlp_model)) is not None:
            raise click.UsageError(f"--nlp-model {ctx.obj['settings'].nlp_model}: {why}")
    if story_embeddings is not None:
        ctx.obj["settings"] = ctx.obj["settings"].replace(story_embeddings=story_embeddings)
    if stance_embeddings is not None:
        ctx.obj["settings"] = ctx.obj["settings"].replace(stance_embeddings=stance_embeddings)
    if engine == "spark":
        _analyze_spark(ctx.obj["settings"], list(stages), inputs, output, master, partitions)
        return
    if inputs or output or master or partitions:
        raise click.UsageError("--input, --output, --master and --partitions go with --engine spark")
    corpus = _corpus(ctx)
    counts = corpus.analyze(list(stages) or None)
    for name, c in counts.stages.items():
        if c.skipped:
            click.echo(f"{name}: skipped: {c.skipped}")
        else:
            click.echo(f"{name}: {c.done} done, {c.fresh} already up to date, {c.errors} failed")
    if counts.errors:
        click.echo("some articles failed; see 'storytrace report' for the errors", err=True)
        ctx.exit(EXIT_PARTIAL)


@main.command()
@click.pass_context
def stages(ctx: click.Context) -> None:
    """List the analysis stages, what each needs, and whether it can run here.

    \b
    Example:
      storytrace stages
    """
    from storytrace.stages import CORPUS_STAGES, STAGES

    for s in STAGES.values():
        why = s.unavailable()
        needs = f" (needs {', '.join(s.requires)})" if s.requires else ""
        click.echo(f"{s.name:10} per article{needs}: {s.description}" + (f" [unavailable: {why}]" if why else ""))
    for c in CORPUS_STAGES.values():
        click.echo(f"{c.name:10} corpus (needs {', '.join(c.requires)}): {c.description}")


def _emit_rows(rows: list[dict[str, Any]], fmt: str, columns: list[str]) -> None:
    if fmt == "jsonl":
        for row in rows:
            click.echo(json.dumps(row, ensure_ascii=False))
    elif fmt == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    else:
        widths = {c: min(60, max([len(c)] + [len(str(r.get(c) or "")) for r in rows])) for c in columns}
        click.echo("  ".join(c.ljust(widths[c]) for c in columns))
        for row in rows:
            click.echo("  ".join(str(row.get(c) or "")[: widths[c]].ljust(widths[c]) for c in columns).rstrip())


@main.command()
@click.option("--limit", type=int, default=50, show_default=True)
@click.option("--offset", type=int, default=0, show_default=True)
@click.option("--outlet", help="Only articles of this outlet.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "jsonl"]), default="table", show_default=True)
@click.pass_context
@_fail_cleanly
def articles(ctx: click.Context, limit: int, offset: int, outlet: str | None, fmt: str) -> None:
    """List stored articles with their metadata and where it came from.

    \b
    Example:
      storytrace articles --outlet "The Independent" --format csv
    """
    corpus = _corpus(ctx, readonly=True)
    rows = [dict(r.__dict__) for r in corpus.articles(limit=limit, offset=offset, outlet=outlet)]
    inferred = corpus.inferred_dates() if any(not r["published"] for r in rows) else {}
    for row in rows:  # dates the timeline stage inferred, marked as such; the stored metadata stays untouched
        if not row["published"] and row["id"] in inferred:
            row["published"] = f"{inferred[row['id']]['value']} (inferred)"
            row["published_source"] = "inferred"
    _emit_rows(rows, fmt, ["num", "id", "published", "published_source", "outlet", "author", "words", "removed",
                           "title"])


@main.command()
@click.argument("ref")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_context
@_fail_cleanly
def show(ctx: click.Context, ref: str, fmt: str) -> None:
    """Show one article (by number, id or id prefix): metadata, and its text with removed lines marked.

    \b
    Example:
      storytrace show 2
    """
    corpus = _corpus(ctx, readonly=True)
    article = corpus.article(ref)
    if fmt == "json":
        click.echo(json.dumps({
            "id": article.id, "sources": list(article.sources),
            "metadata": {k: v.to_dict() for k, v in article.meta.fields().items()},
            "raw_text": article.raw_text, "clean_text": article.clean.text,
            "removed_lines": [r.to_dict() for r in article.clean.removed],
            "analysis": corpus.store.stage_payloads(article.id),
        }, ensure_ascii=False, indent=2))
        return
    click.secho(f"article {article.id}", bold=True)
    for source in article.sources:
        click.echo(f"  source: {source}")
    for name, value in article.meta.fields().items():
        where = f" @{value.start}-{value.end}" if value.start is not None else ""
        click.echo(f"  {name}: {value.value}  [{value.source}{where}, confidence {value.confidence:.2f}]")
    click.echo()
    removed = {r.start: r for r in article.clean.removed}
    pos = 0
    for line in article.raw_text.splitlines(keepends=True):
        hit = removed.get(pos)
        if hit is not None:
            click.secho(f"[removed: {hit.reason}] {line.rstrip()}", fg="bright_black")
        else:
            click.echo(line.rstrip("\n"))
        pos += len(line)


@main.command()
@click.option("--format", "fmt", type=click.Choice(["markdown", "html", "json"]), default="markdown",
              show_default=True)
@click.option("--html", "fmt", flag_value="html", help="Same as --format html.")
@click.option("--json", "fmt", flag_value="json", help="Same as --format json.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to a file.")
@click.option("--story", type=int, help="A story page instead: its cited brief, stances and facts across outlets.")
@click.option("--sentences", type=click.IntRange(1, 100), help="With --story: sentences in the brief [default: 8].")
@click.pass_context
@_fail_cleanly
def report(ctx: click.Context, fmt: str, output: Path | None, story: int | None, sentences: int | None) -> None:
    """Write the corpus report: outlets, dates, cleaning, and what each analysis stage produced.

    With --story N: that story's brief (every sentence cited by article and offsets), who stands where
    and how that changed, and its facts compared across outlets.

    \b
    Example:
      storytrace report --html -o report.html
      storytrace report --story 1 --sentences 6
    """
    from storytrace.export import atomic_text

    if story is not None:
        from storytrace import report as report_module

        if sentences is not None:
            ctx.obj["settings"] = ctx.obj["settings"].replace(brief_sentences=sentences)
            _corpus(ctx).analyze(["briefs"])
        text = report_module.render_story(_corpus(ctx, readonly=True).brief(story), format=fmt)
    else:
        text = _corpus(ctx, readonly=True).report(format=fmt)
    if output is None:
        click.echo(text, nl=False)
        return
    with atomic_text(output) as handle:
        handle.write(text)
    click.echo(f"wrote {output}")


@main.command()
@click.option("--format", "fmt", required=True,
              type=click.Choice(["jsonl", "csv", "parquet", "quotes-csv", "quotes-jsonl", "quotes-parquet", "dna",
                                 "gexf", "graphml", "annotations"]),
              help="Articles as jsonl/csv/parquet; one row per quotation (speaker, actor, article, outlet, date, "
              "offsets, confidence) as quotes-csv/quotes-jsonl/quotes-parquet; stance statements as DNA-style CSV "
              "(dna) or a network (gexf, graphml); quotation spans as W3C Web Annotation JSON (annotations).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.pass_context
@_fail_cleanly
def export(ctx: click.Context, fmt: str, output: Path) -> None:
    """Export the articles with provenance, or stance statements for DNA; a run manifest goes beside the file.

    \b
    Example:
      storytrace export --format parquet -o articles.parquet
      storytrace export --format quotes-csv -o quotes.csv
      storytrace export --format dna -o statements.csv
      storytrace export --format gexf -o stances.gexf
    """
    path = _corpus(ctx, readonly=True).export(output, format=fmt)
    click.echo(f"wrote {path} and {path.name}.manifest.json")


@main.command()
@click.option("--speaker", help="Only quotes whose speaker (or source mention) contains this, any case.")
@click.option("--article", help="Only quotes of this article (number, id or id prefix).")
@click.option("--variants", is_flag=True, help="Group each utterance's versions across outlets, with word diffs.")
@click.option("--limit", type=int, default=50, show_default=True, help="With --variants: groups per page.")
@click.option("--offset", type=int, default=0, show_default=True, help="With --variants: groups to skip.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "jsonl"]), default="table", show_default=True)
@click.pass_context
@_fail_cleanly
def quotes(ctx: click.Context, speaker: str | None, article: str | None, variants: bool, limit: int, offset: int,
           fmt: str) -> None:
    """List quotations: who said what, where, with offsets into the raw text (run 'analyze' first).

    \b
    Example:
      storytrace quotes --speaker McCluskey --format jsonl
      storytrace quotes --variants --speaker McCluskey
    """
    corpus = _corpus(ctx, readonly=True)
    if variants:
        _show_variants(corpus, speaker=speaker, limit=limit, offset=offset, fmt=fmt)
        return
    rows = list(corpus.quotes(speaker=speaker, article=article))
    if not rows and not corpus.store.stage_summary().get("quotes"):
        raise click.ClickException("no quotations stored yet: run 'storytrace analyze' first")
    if fmt == "table":
        for row in rows:
            who = row["speaker"] or (f"({row['source']})" if row["source"] else "(unattributed)")
            click.echo(f"{row['article_id'][:8]}  {row['kind']:8}  {who[:28]:28}  {row['content'][:100]}")
        return
    columns = ["article_id", "source_path", "outlet", "published", "kind", "content", "content_start", "content_end",
               "content_spans", "cue", "cue_start", "cue_end", "cue_lemma", "source", "source_start", "source_end",
               "speaker", "anonymous", "unresolved_reason", "confidence"]
    _emit_rows(rows, fmt, columns)


@main.command()
@click.option("--name", help="Only actors with a name variant containing this (any case); shows evidence.")
@click.option("--limit", type=int, default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per actor.")
@click.pass_context
@_fail_cleanly
def actors(ctx: click.Context, name: str | None, limit: int, as_json: bool) -> None:
    """List people and organisations across articles, with roles, dates and why names were merged.

    Corrections (merge, split, rename, set_role) go in storytrace-corrections.toml beside the store.

    \b
    Example:
      storytrace actors --name watson
    """
    rows = _corpus(ctx, readonly=True).actors(name=name, limit=limit)
    if not rows:
        raise click.ClickException("no actors stored: run 'storytrace analyze' first (or no name matched)")
    for a in rows:
        if as_json:
            click.echo(json.dumps(a, ensure_ascii=False))
            continue
        roles = "; ".join(f"{r['role']}" + (f" ({r['date']})" if r.get("date") else "") for r in a["roles"])
        click.echo(f"{a['id']:28} {a['kind']:12} {a['mentions']:4} mentions {a['articles']:3} articles  {roles}")
        for merge in a.get("merges", []):
            click.echo(f"    merged {merge['name']!r}: {merge['reason']}")


@main.command()
@click.option("--story", type=int, help="Show one story's articles, with similarity and why each joined.")
@click.option("--limit", type=int, default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@_fail_cleanly
def stories(ctx: click.Context, story: int | None, limit: int, as_json: bool) -> None:
    """List story clusters (largest first), or one story's articles in date order.

    \b
    Example:
      storytrace stories --story 1
    """
    rows = _corpus(ctx, readonly=True).stories(story=story, limit=limit)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False))
        return
    if not rows:
        raise click.ClickException("no stories stored: run 'storytrace analyze' first")
    for s in rows:
        follows = f"  follows story {s['follows']}" if s.get("follows") else ""
        click.echo(f"story {s['story']:<5} {s['size']:4} articles  {s['first'] or '?'} .. {s['last'] or '?'}"
                   f"  {s['title'][:70]}{follows}")
        for m in s.get("articles", []):
            click.echo(f"    {m['article_id'][:12]}  {m['date'] or '?':10}  {m['title'][:50]:50}  {m['reason']}")


def _show_variants(corpus: Corpus, *, speaker: str | None, limit: int, offset: int, fmt: str) -> None:
    if corpus.store.corpus_result("variants") is None:
        raise click.ClickException("no quote variants computed yet: run 'storytrace analyze' first")
    needle = speaker.casefold() if speaker else None
    groups = [
        (key, members) for key, members in corpus.groups("variants", limit=limit, offset=offset)
        if needle is None or any(needle in (m.get("speaker") or "").casefold() for m in members)
    ]
    if fmt != "table":
        rows = [{"group": key, **m} for key, members in groups for m in members]
        _emit_rows(rows, fmt, ["group", "article_id", "outlet", "published", "speaker", "kind", "text", "start", "end",
                               "canonical_member", "similarity", "flags", "substitutions", "canonical"])
        return
    for key, members in groups:
        head = members[0]
        first = head["first"]
        click.secho(f"group {key}: {head['size']} quotes in {head['articles']} articles "
                    f"({', '.join(head['outlets']) or 'outlets unknown'}); first: {first['outlet'] or '?'} "
                    f"{first['published'] or 'date unknown'}", bold=True)
        click.echo(f"  canonical: {head['canonical']}")
        for m in members:
            changes = ", ".join(f"{a} → {b}" for a, b in m["substitutions"])
            flags = ", ".join(m["flags"]) or ("canonical" if m["canonical_member"] else "same")
            click.echo(f"  - {m['outlet'] or '?'} {(m['published'] or '')[:10]} {m['article_id'][:8]} "
                       f"@{m['start']}-{m['end']} [{flags}]" + (f" {changes}" if changes else ""))
        click.echo()


@main.command()
@click.option("--limit", type=int, default=50, show_default=True, help="Groups per page.")
@click.option("--offset", type=int, default=0, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["table", "jsonl"]), default="table", show_default=True)
@click.pass_context
@_fail_cleanly
def duplicates(ctx: click.Context, limit: int, offset: int, fmt: str) -> None:
    """List groups of near-duplicate or syndicated articles, with the share of text each copy shares.

    \b
    Example:
      storytrace duplicates --format jsonl
    """
    corpus = _corpus(ctx, readonly=True)
    if corpus.store.corpus_result("duplicates") is None:
        raise click.ClickException("no duplicate groups computed yet: run 'storytrace analyze' first")
    groups = corpus.groups("duplicates", limit=limit, offset=offset)
    info = corpus.store.article_info([m["article_id"] for _, members in groups for m in members])
    for key, members in groups:
        if fmt == "jsonl":
            for m in members:
                click.echo(json.dumps({"group": key, **m, **info.get(m["article_id"], {})}, ensure_ascii=False))
            continue
        click.secho(f"group {key}: {len(members)} articles", bold=True)
        for m in members:
            a = info.get(m["article_id"], {})
            click.echo(f"  {m['article_id'][:12]}  shared {m.get('shared', 1.0):.2f}  {a.get('outlet') or '?'}  "
                       f"{(a.get('published') or '')[:10]}  {a.get('title') or a.get('source_path') or ''}")
    if not groups and fmt == "table":
        click.echo("no near-duplicate articles found")


@main.command()
@click.option("--actor", help="Only holders whose name contains this (any case).")
@click.option("--evidence", is_flag=True, help="Show the evidence sentence offsets of each article's stance.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per actor and target.")
@click.pass_context
@_fail_cleanly
def stances(ctx: click.Context, actor: str | None, evidence: bool, as_json: bool) -> None:
    """Who supports or opposes whom (or what), in each article over time, with changes flagged.

    \b
    Example:
      storytrace stances --actor watson --evidence
    """
    rows = _corpus(ctx, readonly=True).stances(actor=actor)
    if not rows:
        raise click.ClickException("no stances stored: run 'storytrace analyze' first (or no actor matched)")
    for p in rows:
        if as_json:
            click.echo(json.dumps(p, ensure_ascii=False))
            continue
        over = ", ".join(f"{t['date'] or 'undated'} {t['polarity']}" for t in p["timeline"])
        click.echo(f"{p['holder'][:24]:24} -> {p['target'][:20]:20} {p['overall']:8} {over}")
        for c in p["changes"]:
            click.echo(f"    changed {c['from']} -> {c['to']} between {c['from_date']} and {c['to_date']}")
        if evidence:
            for t in p["timeline"]:
                for e in t["evidence"]:
                    click.echo(f"    {t['article_id'][:8]} @{e['evidence_start']}-{e['evidence_end']} "
                               f"{e['polarity']:7} [{e['cue']}] ({e['source']}, {e['confidence']:.2f})")


@main.command()
@click.option("--story", type=int, help="Only this story's facts.")
@click.option("--all", "show_all", is_flag=True, help="Also facts reported by one article only.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per fact.")
@click.pass_context
@_fail_cleanly
def facts(ctx: click.Context, story: int | None, show_all: bool, as_json: bool) -> None:
    """Numbers, amounts, percentages and tallies compared across the articles of each story.

    \b
    Example:
      storytrace facts --story 1
    """
    rows = _corpus(ctx, readonly=True).facts(story=story)
    for f in rows:
        if not show_all and f["status"] == "single" and not f["also_reported_by"]:
            continue
        if as_json:
            click.echo(json.dumps(f, ensure_ascii=False))
            continue
        click.echo(f"story {f['story']}  {f['kind']:7} {f['counts'][:30]:30} {f['status']:8} "
                   + "; ".join(f"{c['text']} ({c['article_id'][:8]} @{c['start']}-{c['end']})" for c in f["citations"]))
        for m in f["also_reported_by"]:
            where = f"{m['article_id'][:8]} @{m['start']}-{m['end']}"
            click.echo(f"    also reported (no figure) {where}: {m['text'][:80]}")


@main.command()
@click.argument("query")
@click.option("--limit", type=int, default=20, show_default=True)
@click.pass_context
@_fail_cleanly
def search(ctx: click.Context, query: str, limit: int) -> None:
    """Full-text search (SQLite FTS5 syntax) over article titles and clean text.

    \b
    Example:
      storytrace search '"political lynching"'
    """
    for article_id, snippet in _corpus(ctx, readonly=True).search(query, limit=limit):
        click.echo(f"{article_id}  {snippet}")


@main.command()
@click.option("--article", help="Only this article (number, id or id prefix).")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "jsonl"]), default="table", show_default=True)
@click.pass_context
@_fail_cleanly
def dates(ctx: click.Context, article: str | None, fmt: str) -> None:
    """List time expressions, normalised TIMEX3-style against each article's (given or inferred) date.

    \b
    Example:
      storytrace dates --article 2 --format jsonl
    """
    rows = list(_corpus(ctx, readonly=True).dates(article=article))
    _emit_rows(rows, fmt, ["article_id", "published", "published_source", "start", "end", "text", "type", "value",
                           "anchor", "anchor_value", "source_path"])


@main.command()
@click.option("--story", type=int, help="Only events cited by this story's articles (see 'storytrace stories').")
@click.option("--limit", type=int, default=1000, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per event, with every citation.")
@click.pass_context
@_fail_cleanly
def timeline(ctx: click.Context, story: int | None, limit: int, as_json: bool) -> None:
    """Show dated events in date order, each with its citations; dates inferred or in conflict are marked.

    \b
    Example:
      storytrace timeline --story 1
    """
    for event in _corpus(ctx, readonly=True).timeline(story=story, limit=limit):
        if as_json:
            click.echo(json.dumps(event, ensure_ascii=False))
            continue
        inferred = " (inferred)" if all(c["date_inferred"] for c in event["citations"]) else ""
        click.secho(f"{event['date']}{inferred}  {event['summary'][:110]}", bold=True)
        for c in event["citations"]:
            mark = " [article date inferred]" if c["date_inferred"] else ""
            click.echo(f"    {c['article_id']} @{c['start']}-{c['end']}  \"{c['timex']['text']}\" -> {c['date']}{mark}")
        for c in event["conflicts"]:
            click.secho(f"    conflict: {c['article_id']} @{c['start']}-{c['end']} gives {c['other_date']}", fg="red")


def _analyze_spark(settings: Settings, stages: list[str], inputs: tuple[str, ...], output: Path | None,
                   master: str | None, partitions: int | None) -> None:
    from storytrace.scale.spark import analyze as spark_analyze

    if not inputs or output is None:
        raise click.UsageError("--engine spark needs --input PATH and --output DIR")
    report = spark_analyze(inputs, output, settings=settings, stages=stages or None, master=master,
                           partitions=partitions)
    click.echo(f"read {report.documents} documents from {report.inputs} files: {report.articles} articles, "
               f"{report.duplicates} duplicate content, {report.errors} failed ({report.seconds:.1f} s)")
    for name, c in report.stages.items():
        click.echo(f"{name}: {c.get('done', 0)} done, {c.get('error', 0)} failed")
    for name, why in report.skipped.items():
        click.echo(f"{name}: skipped: {why}")
    if report.local:
        click.echo(f"left for the local engine after 'storytrace load': {', '.join(report.local)}")
    click.echo(f"-> {output} (load it: storytrace load {output})")


@main.command()
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.pass_context
@_fail_cleanly
def load(ctx: click.Context, folder: Path) -> None:
    """Load the Parquet output of 'analyze --engine spark' into the store (batch transactions, re-runnable).

    \b
    Example:
      storytrace load out/ && storytrace analyze    # then the corpus stages run locally
    """
    corpus = _corpus(ctx)
    counts = corpus.load(folder)
    click.echo(f"loaded: {counts.added} new, {counts.duplicates} duplicate content, {counts.unchanged} unchanged, "
               f"{counts.stage_results} stage results, {counts.errors} ingest errors, {counts.recleaned} re-cleaned "
               f"-> {corpus.settings.db} ({corpus.store.count_articles()} articles)")
    for name, what in counts.corpus.items():
        click.echo(f"{name}: {what}")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on (keep it local).")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option("--token", envvar="STORYTRACE_TOKEN", default=None,
              help="Allow ingest and analyze over HTTP for requests carrying this bearer token. Env: STORYTRACE_TOKEN.")
@click.pass_context
@_fail_cleanly
def serve(ctx: click.Context, host: str, port: int, token: str | None) -> None:
    """Serve the web app (pages and a JSON API, OpenAPI at /openapi.json) over the store; read-only by default.

    \b
    Example:
      storytrace serve --port 8000
      storytrace serve --token "$(openssl rand -hex 16)"   # enables POST /api/ingest and /api/analyze
    """
    try:
        from storytrace.web import serve as run_server
    except ImportError as exc:  # pragma: no cover - depends on the optional extra
        raise click.ClickException(f"the web app needs the 'web' extra: pip install 'storytrace[web]' ({exc})") from exc
    settings: Settings = ctx.obj["settings"]
    click.echo(f"serving {settings.db} on http://{host}:{port}/ ({'writes need the token' if token else 'read-only'})")
    run_server(settings.db, host=host, port=port, token=token)


# -- benchmarks ----------------------------------------------------------------------------------------
@main.group()
def bench() -> None:
    """Measure accuracy and speed on benchmark data (kept outside the project, e.g. ../shared/data)."""


def _print_figures(figures: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(figures, ensure_ascii=False))
        return

    def walk(value: Any, prefix: str = "") -> None:
        if isinstance(value, dict):
            for key, sub in value.items():
                walk(sub, f"{prefix}{key}." if isinstance(sub, dict) else f"{prefix}{key}")
        else:
            shown = f"{value:.4f}" if isinstance(value, float) else value
            click.echo(f"{prefix}: {shown}")

    walk(figures)


# Every benchmark is a module of storytrace.bench with run(data, split=..., limit=...) -> dict, and
# optionally report(figures) -> str for a readable table. Name: (default split, help with an example).
BENCHMARKS: dict[str, tuple[str, str]] = {
    "ingest": ("all", """Ingest speed (plain text and HTML), peak memory, and HTML main-text F1 (Zyte benchmark).

    \b
    Example:
      storytrace bench ingest --data ../shared/data --json"""),
    "nlp": ("test", """Tagging, parsing, sentence and NER accuracy, and words per second of the NLP backbone.

    \b
    Example:
      storytrace bench nlp --data ../shared/data --split test"""),
    "quotes": ("dev", """Quotation extraction and speaker attribution on PolNeAR: P/R/F1 by role, mode and subset.

    STORYTRACE_BENCH_QUOTE_TAGGER=1 joins the MiniLM span tagger (as analyze --quote-tagger);
    STORYTRACE_NLP_MODEL=accurate parses with the accurate pipeline (as analyze --nlp-model accurate).

    \b
    Example:
      storytrace bench quotes --data ../shared/data/polnear --split dev"""),
    "stories": ("dev", """Story clustering in the streaming protocol: pairwise and BCubed P/R/F1 and AMI.

    Reads dataset.<split>.json (Miranda et al. 2018 format) when present; else the project's story-level
    Reuters set (splits dev, test, heldout2: date windows streamed whole, labelled articles scored; heldout2 is
    reserved for held-out figures, never tuned on) from the data folder or reuters21578; or, given the
    semeval2015-timeline folder, the topic-level Wikinews set (train, test).

    \b
    Example:
      storytrace bench stories --data ../shared/data --split dev"""),
    "actors": ("all", """Actor merging: pairwise merge precision/recall over a labelled sample of speaker mentions.

    Splits: seeds (the five seed articles; the rules were written on them), polnear (30 PolNeAR dev articles,
    labelled before the merger ran on them: held out), all (both in one run, with each sample's figures).

    \b
    Example:
      storytrace bench actors --data ../shared/data --split polnear"""),
    "duplicates": ("dev", """Near-duplicate detection P/R/F1 on BBC's duplicate pairs plus generated near-copies.

    \b
    Example:
      storytrace bench duplicates --data ../shared/data --split dev"""),
    "variants": ("dev", """Quote-variant linking pairwise P/R/F1 on the project's labelled PolNeAR pairs,
    against exact match.

    \b
    Example:
      storytrace bench variants --data ../shared/data --split dev"""),
    "resolve": ("all", """Time and peak memory of all cross-article steps (duplicates, variants, stories,
    actors) at 1k-100k.

    \b
    Example:
      storytrace bench resolve --data ../shared/data --limit 10000"""),
    "stance": ("dev", """Stance accuracy and per-class P/R on the project's labelled set (seeds + PolNeAR dev articles).

    Splits: seeds (rules written on them), unseen (one PolNeAR article), dev / all (seeds + unseen), tune and
    heldout (18 PolNeAR dev articles labelled before the system ran on them; heldout only for final figures),
    polnear (tune + heldout), everything.

    \b
    Example:
      storytrace bench stance --data ../shared/data --split all"""),
    "brief": ("news", """ROUGE-1/2/L F1 of the extractive brief and the lead baseline against GUM's human summaries
    (single-article briefs of Wikinews documents; splits news, all).

    \b
    Example:
      storytrace bench brief --data ../shared/data --json"""),
    "timex": ("test", """TIMEX3 extraction and normalisation, TempEval-3 scoring: strict/relaxed span, value and
    type F1.

    Splits: train, heldout (a fixed fifth of TBAQ-cleaned, never tuned on), test (= platinum).

    \b
    Example:
      storytrace bench timex --data ../shared/data/tempeval3 --split heldout"""),
    "timeline": ("all", """Event ordering on SemEval-2015 Task 4 gold timelines: pairwise order accuracy of
    aligned events.

    \b
    Example:
      storytrace bench timeline --data ../shared/data/semeval2015-timeline"""),
    "web": ("all", """Page and API latency (p50/p95 over real HTTP) on a store built from the bench corpora
    (--limit articles, rules-only quotations).

    A store kept and reused between runs (a 100k build takes hours): STORYTRACE_BENCH_WEB_STORE=DIR, or
    python -m storytrace.bench.web --store DIR [--build-only].

    \b
    Example:
      storytrace bench web --data ../shared/data --limit 10000"""),
    "soak": ("all", """Steady load on 'storytrace serve' (its own process, loopback) for a few minutes: errors,
    p50/p95 latency and server memory per 30 s window, on a store of --limit articles (default 300).

    Duration: STORYTRACE_SOAK_SECONDS (default 180), or python -m storytrace.bench.soak --seconds N.

    \b
    Example:
      STORYTRACE_SOAK_SECONDS=300 storytrace bench soak --data ../shared/data --json"""),
}


def _add_benchmark(name: str, default_split: str, doc: str) -> None:
    @bench.command(name, help=doc)
    @click.option("--data", type=click.Path(exists=True, file_okay=False, path_type=Path),
                  default=Path("../shared/data"), show_default=True, help="The benchmark data folder.")
    @click.option("--split", default=default_split, show_default=True, help="Which split to score.")
    @click.option("--limit", type=int, default=None, help="Use only the first N items (quick runs).")
    @click.option("--json", "as_json", is_flag=True, help="Print the figures as one JSON object.")
    @_fail_cleanly
    def command(data: Path, split: str, limit: int | None, as_json: bool) -> None:
        module = importlib.import_module(f"storytrace.bench.{name}")
        figures = module.run(data, split=split, limit=limit)
        if as_json or not hasattr(module, "report"):
            _print_figures(figures, as_json)
        else:
            click.echo(module.report(figures))


for _name, (_split, _doc) in BENCHMARKS.items():
    _add_benchmark(_name, _split, _doc)


@bench.command("scale")
@click.option("--data", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=Path("../shared/data"), show_default=True, help="The benchmark data folder.")
@click.option("--sizes", default="1000,10000", show_default=True, help="Corpus sizes, comma-separated.")
@click.option("--engines", default="local1,local2,spark1,spark2", show_default=True,
              help="Comma-separated: localN (N workers) and sparkN (master local[N]).")
@click.option("--stages", default="profile,dates,facts", show_default=True,
              help="Comma-separated per-article stages to run ('all' = every per-article stage).")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as one JSON object.")
@click.option("--progress-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the figures so far to this file after every run (long benchmarks).")
@click.option("--work", "work_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Keep corpora and stores in this folder; a local run there resumes the interrupted one "
                   "before it, and its figures sum the sittings (runs longer than one sitting).")
@_fail_cleanly
def bench_scale(data: Path, sizes: str, engines: str, stages: str, as_json: bool, progress_file: Path | None,
                work_dir: Path | None) -> None:
    """Articles/s and peak memory of ingest + per-article analysis, local engine and Spark, by corpus size.

    Each (engine, size) runs in a fresh process tree whose peak RSS is summed over its processes.

    \b
    Example:
      storytrace bench scale --data ../shared/data --sizes 1000,10000 --json
      storytrace bench scale --sizes 100000 --engines local2 --stages all --work /var/tmp/scale   # resumable
    """
    from storytrace.bench import scale

    figures = scale.run(data, sizes=[int(s) for s in sizes.split(",") if s.strip()],
                        engines=[e.strip() for e in engines.split(",") if e.strip()],
                        stages=None if stages == "all" else [s.strip() for s in stages.split(",") if s.strip()],
                        progress=progress_file, work_dir=work_dir)
    if as_json:
        _print_figures(figures, True)
    else:
        click.echo(scale.report(figures))


if __name__ == "__main__":  # pragma: no cover
    main()
