-- Raw event tables. One row per event; a retried event (same request_id, same body)
-- collapses to one row on merge (ReplacingMergeTree) and at read time with FINAL.
-- ${...} placeholders are filled by `ollive migrate` (TTL days from OLLIVE_TTL_*_DAYS,
-- the engine prefix and ON CLUSTER clause for the cluster variant, see sql/README.md).

CREATE TABLE IF NOT EXISTS inference_logs ${on_cluster}
(
    project               LowCardinality(String),
    request_id            UUID,
    trace_id              String,
    span_id               String,
    parent_span_id        String,
    conversation_id       String,
    session_id            String,
    user_id               String,
    service               LowCardinality(String),
    provider              LowCardinality(String),
    model                 LowCardinality(String),
    started_at            DateTime64(3, 'UTC'),
    finished_at           DateTime64(3, 'UTC'),
    latency_ms            Float64,
    ttft_ms               Nullable(Float64),
    stream                Bool,
    prompt_tokens         UInt32,
    completion_tokens     UInt32,
    total_tokens          UInt32,
    cached_prompt_tokens  UInt32,
    cost_usd              Float64,
    status                LowCardinality(String),
    finish_reason         LowCardinality(String),
    tool_calls_count      UInt16,
    tool_calls_summary    String,
    error_code            LowCardinality(String),
    error_message         String,
    input_preview         String,
    output_preview        String,
    metadata              String,
    redactions            Map(LowCardinality(String), UInt32),
    schema_version        LowCardinality(String),
    ingested_at           DateTime64(3, 'UTC') DEFAULT now64(3),
    INDEX idx_conversation conversation_id TYPE bloom_filter(0.01) GRANULARITY 4,
    INDEX idx_user user_id TYPE bloom_filter(0.01) GRANULARITY 4,
    INDEX idx_trace trace_id TYPE bloom_filter(0.01) GRANULARITY 4,
    INDEX idx_request request_id TYPE bloom_filter(0.01) GRANULARITY 4
)
ENGINE = ${replicated}ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(started_at)
ORDER BY (project, toStartOfHour(started_at), request_id)
TTL toDateTime(started_at) + INTERVAL ${ttl_inference_days} DAY
SETTINGS non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS tool_executions ${on_cluster}
(
    project               LowCardinality(String),
    request_id            UUID,
    parent_request_id     Nullable(UUID),
    trace_id              String,
    span_id               String,
    parent_span_id        String,
    conversation_id       String,
    session_id            String,
    user_id               String,
    service               LowCardinality(String),
    tool_name             LowCardinality(String),
    started_at            DateTime64(3, 'UTC'),
    finished_at           DateTime64(3, 'UTC'),
    latency_ms            Float64,
    status                LowCardinality(String),
    error_code            LowCardinality(String),
    error_message         String,
    args_preview          String,
    result_preview        String,
    metadata              String,
    redactions            Map(LowCardinality(String), UInt32),
    schema_version        LowCardinality(String),
    ingested_at           DateTime64(3, 'UTC') DEFAULT now64(3),
    INDEX idx_conversation conversation_id TYPE bloom_filter(0.01) GRANULARITY 4,
    INDEX idx_trace trace_id TYPE bloom_filter(0.01) GRANULARITY 4
)
ENGINE = ${replicated}ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(started_at)
ORDER BY (project, toStartOfHour(started_at), request_id)
TTL toDateTime(started_at) + INTERVAL ${ttl_tool_days} DAY
SETTINGS non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS application_logs ${on_cluster}
(
    project               LowCardinality(String),
    request_id            UUID,
    timestamp             DateTime64(3, 'UTC'),
    service               LowCardinality(String),
    level                 LowCardinality(String),
    logger                LowCardinality(String),
    message               String,
    attributes            String,
    trace_id              String,
    span_id               String,
    parent_span_id        String,
    conversation_id       String,
    session_id            String,
    user_id               String,
    metadata              String,
    redactions            Map(LowCardinality(String), UInt32),
    schema_version        LowCardinality(String),
    ingested_at           DateTime64(3, 'UTC') DEFAULT now64(3),
    INDEX idx_conversation conversation_id TYPE bloom_filter(0.01) GRANULARITY 4,
    INDEX idx_trace trace_id TYPE bloom_filter(0.01) GRANULARITY 4
)
ENGINE = ${replicated}ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(timestamp)
ORDER BY (project, toStartOfHour(timestamp), request_id)
TTL toDateTime(timestamp) + INTERVAL ${ttl_application_days} DAY
SETTINGS non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS scores ${on_cluster}
(
    project               LowCardinality(String),
    request_id            UUID,
    timestamp             DateTime64(3, 'UTC'),
    target_request_id     UUID,
    name                  LowCardinality(String),
    value                 Float64,
    comment               String,
    source                LowCardinality(String),
    trace_id              String,
    span_id               String,
    parent_span_id        String,
    conversation_id       String,
    session_id            String,
    user_id               String,
    service               LowCardinality(String),
    metadata              String,
    redactions            Map(LowCardinality(String), UInt32),
    schema_version        LowCardinality(String),
    ingested_at           DateTime64(3, 'UTC') DEFAULT now64(3),
    INDEX idx_target target_request_id TYPE bloom_filter(0.01) GRANULARITY 4
)
ENGINE = ${replicated}ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(timestamp)
ORDER BY (project, toStartOfHour(timestamp), request_id)
TTL toDateTime(timestamp) + INTERVAL ${ttl_scores_days} DAY
SETTINGS non_replicated_deduplication_window = 10000;
