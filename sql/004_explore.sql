-- Explore: full-text search over previews and messages, and the pipeline's own health.
--
-- Search: an n-gram bloom-filter skip index on the lower-cased searchable text of each raw
-- table, the very expression `ollive.insights.search` filters with LIKE '%text%' (ClickHouse
-- uses a skip index only for the expression it was built on): a granule of 8,192 rows whose
-- filter lacks one of the needle's trigrams is skipped. MATERIALIZE builds it for the parts
-- written before this migration (a background mutation; new parts get it on insert).

ALTER TABLE inference_logs ${on_cluster}
    ADD INDEX IF NOT EXISTS idx_search lower(concat(input_preview, ' ', output_preview, ' ', error_message))
    TYPE ngrambf_v1(3, 16384, 3, 0) GRANULARITY 1;
ALTER TABLE inference_logs ${on_cluster} MATERIALIZE INDEX idx_search;

ALTER TABLE tool_executions ${on_cluster}
    ADD INDEX IF NOT EXISTS idx_search lower(concat(args_preview, ' ', result_preview, ' ', error_message))
    TYPE ngrambf_v1(3, 16384, 3, 0) GRANULARITY 1;
ALTER TABLE tool_executions ${on_cluster} MATERIALIZE INDEX idx_search;

ALTER TABLE application_logs ${on_cluster}
    ADD INDEX IF NOT EXISTS idx_search lower(message)
    TYPE ngrambf_v1(3, 16384, 3, 0) GRANULARITY 1;
ALTER TABLE application_logs ${on_cluster} MATERIALIZE INDEX idx_search;

-- a trace opens by trace_id in scores too (the other raw tables have this index already)
ALTER TABLE scores ${on_cluster}
    ADD INDEX IF NOT EXISTS idx_trace trace_id TYPE bloom_filter(0.01) GRANULARITY 4;
ALTER TABLE scores ${on_cluster} MATERIALIZE INDEX idx_trace;

-- The pipeline's own figures, one row per reporter and interval (written by the writers):
-- counters are what happened since the reporter's previous row, gauges their value at ts.
-- component 'ingest': an ingest replica (accepted, rejected, duplicates);
-- component 'writer': a writer shard (rows committed/spooled, insert failures, dead-letter
-- queue depth, rows waiting for their commit).
CREATE TABLE IF NOT EXISTS pipeline_stats ${on_cluster}
(
    ts                DateTime64(3, 'UTC'),
    component         LowCardinality(String),
    instance          String,
    accepted          UInt64,
    rejected          UInt64,
    duplicates        UInt64,
    rows_committed    UInt64,
    rows_spooled      UInt64,
    insert_failures   UInt64,
    spool_files       UInt64,
    spool_bytes       UInt64,
    inflight_rows     UInt64
)
ENGINE = ${replicated}MergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (ts, component, instance)
TTL toDateTime(ts) + INTERVAL 30 DAY;
