-- Evaluate: datasets, experiment runs and their results, and the online evaluator's watermark.
--
-- A dataset is versioned and immutable: every item carries the version that added it, and
-- version v of a dataset is every item with version <= v (items are never changed or
-- removed; `add` writes a new version with the new items only). An experiment run maps a
-- task over one dataset version; its evaluator results are `score` events in `scores`
-- (session_id = run_id), its outputs live in experiment_results. ReplacingMergeTree keys make
-- every write idempotent: a retried insert or a resumed run replaces, never duplicates.

CREATE TABLE IF NOT EXISTS datasets ${on_cluster}
(
    project        LowCardinality(String),
    name           String,
    version        UInt32,
    created_at     DateTime64(3, 'UTC'),
    description    String,
    source         String,
    items_added    UInt32,
    items_total    UInt32
)
ENGINE = ${replicated}ReplacingMergeTree
ORDER BY (project, name, version);

CREATE TABLE IF NOT EXISTS dataset_items ${on_cluster}
(
    project            LowCardinality(String),
    dataset            String,
    item_id            String,
    version            UInt32,
    input              String,
    expected_output    String,
    metadata           String,
    source_request_id  String,
    source_trace_id    String,
    created_at         DateTime64(3, 'UTC')
)
ENGINE = ${replicated}ReplacingMergeTree
ORDER BY (project, dataset, item_id);

CREATE TABLE IF NOT EXISTS experiment_runs ${on_cluster}
(
    project          LowCardinality(String),
    run_id           String,
    name             String,
    dataset          String,
    dataset_version  UInt32,
    status           LowCardinality(String),
    started_at       DateTime64(3, 'UTC'),
    finished_at      Nullable(DateTime64(3, 'UTC')),
    items            UInt32,
    succeeded        UInt32,
    failed           UInt32,
    task             String,
    evaluators       Array(String),
    metadata         String,
    updated_at       DateTime64(3, 'UTC')
)
ENGINE = ${replicated}ReplacingMergeTree(updated_at)
ORDER BY (project, run_id);

CREATE TABLE IF NOT EXISTS experiment_results ${on_cluster}
(
    project            LowCardinality(String),
    run_id             String,
    item_id            String,
    request_id         String,
    trace_id           String,
    output             String,
    error              String,
    attempts           UInt16,
    latency_ms         Float64,
    cost_usd           Nullable(Float64),
    prompt_tokens      UInt32,
    completion_tokens  UInt32,
    finished_at        DateTime64(3, 'UTC')
)
ENGINE = ${replicated}ReplacingMergeTree(finished_at)
ORDER BY (project, run_id, item_id);

-- One row per online-evaluation rule, replaced on every step: every event ingested at or
-- before `watermark` has been looked at (a step re-reads a short window before it for rows
-- written late, never before `floor`, where skipped backlog ends); the counters are totals.
CREATE TABLE IF NOT EXISTS evaluation_state ${on_cluster}
(
    rule             String,
    watermark        DateTime64(3, 'UTC'),
    floor            DateTime64(3, 'UTC'),
    scored           UInt64,
    skipped          UInt64,
    errors           UInt64,
    backlog          UInt64,
    judge_calls      UInt64,
    judge_cost_usd   Float64,
    updated_at       DateTime64(3, 'UTC')
)
ENGINE = ${replicated}ReplacingMergeTree(updated_at)
ORDER BY rule;
