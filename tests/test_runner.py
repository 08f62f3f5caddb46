from __future__ import annotations

import pytest

from storytrace import stages as stage_registry
from storytrace.errors import PipelineError
from storytrace.model import StageOutput
from storytrace.runner import analyze
from storytrace.settings import Settings
from storytrace.store import SourceRef, Store
from tests.test_store import make_article


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "t.db") as s:
        run = s.start_run("test", settings={}, versions={})
        with s.transaction() as conn:
            for i in range(7):
                text = f"Chrome\n“We will fight,” said speaker {i}. It cost £{i},000.\nSecond paragraph."
                s.add_article(conn, make_article(text, article_id=f"{i:016x}"),
                              source=SourceRef(f"{i}.txt", "", str(i)), line_keys=[], run_id=run)
        yield s


def _run(store, stages, **settings):
    return analyze(store, settings=Settings(db=store.path, progress=False, **settings), run_id=1, stages=stages)


def test_profile_runs_once_then_is_fresh(store):
    first = _run(store, ["profile"])
    assert first.stages["profile"].done == 7
    payload = store.stage_payloads("0" * 16)["profile"]
    assert payload["quote_marks"] == 1 and payload["numbers"] == 2  # "speaker 0" and "£0,000"
    # paragraph spans are raw-text offsets
    article = store.get_article("0" * 16)
    start, end = payload["paragraphs"][0]
    assert article.raw_text[start:end].startswith("“We will fight,”")
    again = _run(store, ["profile"])
    assert again.stages["profile"].done == 0 and again.stages["profile"].fresh == 7


def test_changed_clean_text_makes_results_stale(store):
    _run(store, ["profile"])
    article = store.get_article("0" * 16)
    with store.transaction() as conn:
        store.update_clean(conn, article.id, article.clean.__class__("Other text.", ((0, 0, 11),)))
    assert _run(store, ["profile"]).stages["profile"].done == 1


def test_failing_article_is_recorded_and_the_rest_goes_on(store, monkeypatch):
    def flaky(article, inputs, settings):
        if article.id.endswith("3"):
            raise ValueError("cannot handle this one")
        return StageOutput("flaky", article.id, {"ok": True})

    monkeypatch.setitem(stage_registry.STAGES, "flaky", stage_registry.Stage("flaky", "1", flaky, "test stage"))
    counts = _run(store, ["flaky"])
    assert (counts.stages["flaky"].done, counts.stages["flaky"].errors) == (6, 1)
    assert store.stage_errors("flaky") == [("0" * 15 + "3", "flaky", "ValueError: cannot handle this one")]
    # failed articles are retried on the next run; the others are fresh
    again = _run(store, ["flaky"])
    assert (again.stages["flaky"].fresh, again.stages["flaky"].errors) == (6, 1)


def test_a_stage_gets_its_requirement_from_the_same_batch_and_a_failed_one_stops_only_its_dependents(
        store, monkeypatch):
    seen: list[tuple[str, str]] = []

    def first(article, inputs, settings):
        seen.append(("first", article.id))
        if article.id.endswith("3"):
            raise ValueError("no")
        return StageOutput("first", article.id, {"n": int(article.id, 16)})

    def second(article, inputs, settings):
        seen.append(("second", article.id))
        return StageOutput("second", article.id, {"double": 2 * inputs["first"]["n"]})

    def other(article, inputs, settings):
        return StageOutput("other", article.id, {})

    for name, fn, req in (("first", first, ()), ("second", second, ("first",)), ("other", other, ())):
        monkeypatch.setitem(stage_registry.STAGES, name, stage_registry.Stage(name, "1", fn, "test", req))
    counts = _run(store, ["second", "other"], batch_size=3)
    assert (counts.stages["first"].done, counts.stages["first"].errors) == (6, 1)
    assert (counts.stages["second"].done, counts.stages["second"].errors) == (6, 1)
    assert counts.stages["other"].done == 7  # the failure did not stop the article's other stages
    assert store.stage_payloads("0" * 15 + "5")["second"] == {"double": 10}
    assert ("0" * 15 + "3", "second", "needs first, which has no result for this article") in store.stage_errors()
    # article by article: each article's stages run one after the other
    assert seen[:2] == [("first", "0" * 16), ("second", "0" * 16)]
    # the second run retries only what failed (and it fails again, so its dependent is not run)
    seen.clear()
    again = _run(store, ["second"])
    assert again.stages["second"].fresh == 6 and seen == [("first", "0" * 15 + "3")]


def test_pool_gives_the_same_results(store, tmp_path):
    _run(store, ["profile"], jobs=2, batch_size=2)
    pooled = dict(store.iter_stage_payloads("profile"))
    with store.transaction() as conn:
        conn.execute("DELETE FROM stage_results")
    _run(store, ["profile"])
    assert dict(store.iter_stage_payloads("profile")) == pooled and len(pooled) == 7


def test_unavailable_stage_is_skipped_with_its_reason(store, monkeypatch):
    stage = stage_registry.Stage("needs_model", "1", stage_registry.profile, "x", unavailable=lambda: "no model")
    monkeypatch.setitem(stage_registry.STAGES, "needs_model", stage)
    counts = _run(store, ["needs_model"])
    assert counts.stages["needs_model"].skipped == "no model"


def test_plan_orders_requirements_and_rejects_unknown():
    article_stages, corpus_stages = stage_registry.plan(["people"])
    assert [s.name for s in article_stages] == ["entities"]
    assert [s.name for s in corpus_stages] == ["people"]
    with pytest.raises(PipelineError, match="unknown stage"):
        stage_registry.plan(["nope"])


def test_corpus_stage_sees_articles_and_its_records_are_replaced_whole(store, monkeypatch):
    def outlets(view, settings):
        rows = [(a.outlet or "?", a.id, {"words": len(a.clean.text.split())}) for a in view.articles()]
        return stage_registry.CorpusOutput({"articles": view.count()}, rows)

    monkeypatch.setitem(stage_registry.CORPUS_STAGES, "outlets",
                        stage_registry.CorpusStage("outlets", "1", outlets, "test corpus stage", ("profile",)))
    counts = _run(store, ["outlets"])
    assert counts.stages["outlets"].done == 1
    assert store.corpus_result("outlets")[1] == {"articles": 7}
    assert len(store.corpus_records("outlets", key="The Test")) == 7
    assert store.corpus_records("outlets", article_id="0" * 16)[0][2] == {"words": 11}
    assert _run(store, ["outlets"]).stages["outlets"].fresh == 1  # nothing changed: not recomputed
    article = store.get_article("0" * 16)
    with store.transaction() as conn:
        store.update_clean(conn, article.id, article.clean.__class__("Short.", ((0, 0, 6),)))
    assert _run(store, ["outlets"]).stages["outlets"].done == 1
    assert len(store.corpus_records("outlets")) == 7  # replaced, not appended


def test_corpus_stage_reading_another_is_ordered_after_it_and_follows_its_changes(store, monkeypatch):
    def upstream(view, settings):
        return stage_registry.CorpusOutput({}, [(str(len(a.clean.text) % 2), a.id, {}) for a in view.articles()])

    def downstream(view, settings):
        groups = {key for key, _, _ in view.records("upstream")}
        return stage_registry.CorpusOutput({"groups": len(groups)})

    monkeypatch.setitem(stage_registry.CORPUS_STAGES, "downstream", stage_registry.CorpusStage(
        "downstream", "1", downstream, "reads upstream", ("profile",), optional=("upstream",)))
    monkeypatch.setitem(stage_registry.CORPUS_STAGES, "upstream", stage_registry.CorpusStage(
        "upstream", "1", upstream, "groups articles", ("profile",)))
    _, corpus_stages = stage_registry.plan(["downstream", "upstream"])
    assert [s.name for s in corpus_stages] == ["upstream", "downstream"]
    _run(store, ["downstream", "upstream"])
    first = store.corpus_result("downstream")[1]["groups"]
    article = store.get_article("0" * 16)
    with store.transaction() as conn:  # one article changes length parity: upstream output changes
        store.update_clean(conn, article.id, article.clean.__class__("Odd.", ((0, 0, 4),)))
    counts = _run(store, ["downstream", "upstream"])
    assert counts.stages["downstream"].done == 1 and counts.stages["upstream"].done == 1
    assert store.corpus_result("downstream")[1]["groups"] >= first


def test_pool_workers_are_forked_even_from_a_spawned_process():
    """A spawned parent (like the benchmarks' measuring child) must not hand spawn down to the pool."""
    import multiprocessing

    from storytrace.pool import process_pool

    assert process_pool(1) is None
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    parent = ctx.Process(target=_report_pool_start_method, args=(queue,))
    parent.start()
    method = queue.get(timeout=120)
    parent.join()
    assert method == "fork"


def _report_pool_start_method(queue) -> None:
    from storytrace.pool import process_pool

    pool = process_pool(2)
    assert pool is not None
    with pool:
        queue.put(pool.submit(_start_method).result())


def _start_method() -> str:
    import multiprocessing

    return "fork" if multiprocessing.current_process().name.startswith("ForkProcess") else "not forked"


OPENMP_AFTER_FORK = """
import torch
from storytrace.pool import process_pool

def op(_):
    x = torch.randn(4000, 384)
    return bool(x.index_select(0, torch.randint(0, 4000, (200000,))).abs().sum() > 0)

if __name__ == "__main__":
    torch.set_num_threads(2)
    op(0)  # the parent runs an operator on an OpenMP team of two
    with process_pool(2) as pool:
        print([f.result(timeout=60) for f in [pool.submit(op, 0) for _ in range(2)]])
"""


def test_pool_workers_run_torch_after_the_parent_ran_it_on_several_threads(tmp_path):
    """GNU OpenMP does not survive a fork: a worker's first parallel operator waited forever for the parent's team
    (the accurate pipeline's hang, session 15). The pool's workers ask torch for one thread first."""
    import os
    import signal
    import subprocess
    import sys

    pytest.importorskip("torch")
    script = tmp_path / "openmp_after_fork.py"
    script.write_text(OPENMP_AFTER_FORK)
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=180)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the script and its hung workers
        proc.communicate()
        pytest.fail("forked workers hung in torch")
    assert proc.returncode == 0 and out.strip() == "[True, True]"
