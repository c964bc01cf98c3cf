"""``ollive bench redact``: plain Presidio against Ollive's redaction path, in one run.

On the seeded PII corpus it measures, on one core (one thread, no cache), both in wall-clock
time and in CPU time of the benchmark thread (the latter is what "one core" means when
other jobs share the machine; ``load_avg_1m`` says how busy it was):

* texts/s and MB/s of plain Presidio (default English recognizers, full
  ``AnalyzerEngine`` + ``AnonymizerEngine`` pass, offline) and of Ollive's path (the
  default policy through the fast path), and their ratio;
* that the fast path returns the same findings and the same redacted text as Presidio's
  full pass under the same configuration, for the vanilla configuration and for the
  default policy, over every text;
* recall and precision per labelled entity type, and the share of PII-free texts with
  any detection, for plain Presidio and for the default policy;
* optionally (``--pools``) the throughput of a thread pool and of a process pool driving
  ``redact_batch`` from asyncio, the way a Serve replica would.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any

from ollive.bench._redact_eval import score_against_labels
from ollive.demo.pii_corpus import LABELLED_ENTITIES, generate_pii_corpus
from ollive.redact import DEFAULT_POLICY, Policy, RedactionResult, Redactor

__all__ = ["run_redact_bench"]

TARGET_SPEEDUP = 50.0
TARGET_TEXTS_PER_S = 5_000.0
TARGET_PII_FREE_SHARE = 0.05


def _timed(
    label: str, fn: Callable[[str], RedactionResult], texts: Sequence[str], progress: bool
) -> tuple[list[RedactionResult], float, float]:
    """Results, wall seconds, and CPU seconds of this thread (less sensitive to other jobs)."""
    from tqdm import tqdm

    results: list[RedactionResult] = []
    start, cpu = time.perf_counter(), time.thread_time()
    for text in tqdm(texts, desc=label, unit="text", disable=not progress, mininterval=0.5):
        results.append(fn(text))
    return results, time.perf_counter() - start, time.thread_time() - cpu


def _mismatches(a: Sequence[RedactionResult], b: Sequence[RedactionResult]) -> int:
    return sum(1 for x, y in zip(a, b, strict=True) if x.findings != y.findings or x.text != y.text)


def run_redact_bench(
    texts: int = 5_000, seed: int = 7, pools: bool = False, progress: bool = True
) -> dict[str, Any]:
    """Run the whole benchmark and return its figures (what ``ollive bench redact`` prints)."""
    corpus = generate_pii_corpus(texts, seed)
    items = [s.text for s in corpus]
    megabytes = sum(len(t.encode("utf-8")) for t in items) / 1e6
    t0 = time.perf_counter()
    vanilla = Policy.vanilla()
    presidio_full = Redactor(vanilla, fast=False, cache_size=0)
    presidio_fast = Redactor(vanilla, cache_size=0)
    ollive_full = Redactor(DEFAULT_POLICY, fast=False, cache_size=0)
    ollive_fast = Redactor(DEFAULT_POLICY, cache_size=0)
    build_s = time.perf_counter() - t0

    presidio_res, presidio_s, presidio_cpu = _timed(
        "plain Presidio", presidio_full.redact, items, progress
    )
    ollive_res, ollive_s, ollive_cpu = _timed("Ollive path", ollive_fast.redact, items, progress)
    vanilla_fast_res, *_ = _timed(
        "fast path, vanilla config", presidio_fast.redact, items, progress
    )
    default_full_res, *_ = _timed("full pass, default policy", ollive_full.redact, items, progress)

    presidio_score = score_against_labels(corpus, presidio_res, LABELLED_ENTITIES)
    ollive_score = score_against_labels(corpus, ollive_res, LABELLED_ENTITIES)
    presidio_tps, ollive_tps = texts / presidio_s, texts / ollive_s
    figures: dict[str, Any] = {
        "bench": "redact",
        "texts": texts,
        "seed": seed,
        "corpus_mb": round(megabytes, 3),
        "texts_with_pii": sum(s.has_pii for s in corpus),
        "nlp_model": ollive_fast.nlp_model,
        "engines_build_s": round(build_s, 2),
        "presidio_texts_per_s": round(presidio_tps, 1),
        "presidio_mb_per_s": round(megabytes / presidio_s, 3),
        "ollive_texts_per_s": round(ollive_tps, 1),
        "ollive_mb_per_s": round(megabytes / ollive_s, 3),
        "speedup": round(ollive_tps / presidio_tps, 1),
        "presidio_texts_per_cpu_s": round(texts / presidio_cpu, 1),
        "ollive_texts_per_cpu_s": round(texts / ollive_cpu, 1),
        "ollive_mb_per_cpu_s": round(megabytes / ollive_cpu, 3),
        "speedup_cpu": round(presidio_cpu / ollive_cpu, 1),
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "identical_findings_vanilla_config": _mismatches(vanilla_fast_res, presidio_res) == 0,
        "identical_findings_default_policy": _mismatches(ollive_res, default_full_res) == 0,
        "mismatched_texts": _mismatches(vanilla_fast_res, presidio_res)
        + _mismatches(ollive_res, default_full_res),
        "errors": sum(not r.ok for r in presidio_res + ollive_res),
        "presidio_by_entity": presidio_score.as_dict(),
        "ollive_by_entity": ollive_score.as_dict(),
        "presidio_pii_free_with_detection": round(presidio_score.pii_free_detection_share, 4),
        "ollive_pii_free_with_detection": round(ollive_score.pii_free_detection_share, 4),
        "cache": "off",
        "single_core": True,
    }
    recall_ok = all(
        (o.recall or 0.0) >= (p.recall or 0.0)
        for p, o in zip(
            presidio_score.entities.values(), ollive_score.entities.values(), strict=True
        )
    )
    figures["targets_met"] = {
        "speedup_50x": figures["speedup"] >= TARGET_SPEEDUP,
        "texts_per_s_5000": ollive_tps >= TARGET_TEXTS_PER_S,
        "texts_per_cpu_s_5000": texts / ollive_cpu >= TARGET_TEXTS_PER_S,
        "identical_findings": figures["mismatched_texts"] == 0,
        "recall_at_least_presidio": recall_ok,
        "pii_free_detection_le_5pct": ollive_score.pii_free_detection_share
        <= TARGET_PII_FREE_SHARE,
    }
    if pools:
        figures["pools"] = measure_pools(items)
    return figures


_worker: Redactor | None = None


def _init_worker() -> None:
    global _worker
    _worker = Redactor(DEFAULT_POLICY, cache_size=0)


def _work(chunk: list[str]) -> int:
    assert _worker is not None
    return len(_worker.redact_batch(chunk))


def measure_pools(items: Sequence[str], chunk: int = 250) -> dict[str, float]:
    """Texts/s of ``redact_batch`` driven from asyncio via a thread pool and a process pool."""
    chunks = [list(items[i : i + chunk]) for i in range(0, len(items), chunk)]
    workers = max(1, min(2, os.cpu_count() or 1))
    redactor = Redactor(DEFAULT_POLICY, cache_size=0)

    async def drive(executor: Any, fn: Callable[[list[str]], Any]) -> float:
        loop = asyncio.get_running_loop()
        start = time.perf_counter()
        await asyncio.gather(*(loop.run_in_executor(executor, fn, c) for c in chunks))
        return len(items) / (time.perf_counter() - start)

    with ThreadPoolExecutor(workers) as threads:
        thread_tps = asyncio.run(drive(threads, redactor.redact_batch))
    with ProcessPoolExecutor(workers, initializer=_init_worker) as procs:
        list(procs.map(_work, [["warm-up"]] * workers))  # engines built before timing
        process_tps = asyncio.run(drive(procs, _work))
    return {
        "workers": workers,
        "thread_pool_texts_per_s": round(thread_tps, 1),
        "process_pool_texts_per_s": round(process_tps, 1),
    }
