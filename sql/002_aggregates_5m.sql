-- Five-minute pre-aggregates, filled by materialized views on every insert into the raw
-- tables. Read them with the -Merge combinators (countMerge, quantilesMerge, sumMerge, ...).
-- The MV SELECTs are kept identical to `Warehouse.rebuild_aggregates`, which recomputes a
-- range of buckets from the raw tables (FINAL) after a deletion or a cross-batch duplicate.

CREATE TABLE IF NOT EXISTS inference_stats_5m ${on_cluster}
(
    project            LowCardinality(String),
    bucket             DateTime('UTC'),
    service            LowCardinality(String),
    provider           LowCardinality(String),
    model              LowCardinality(String),
    requests           AggregateFunction(count),
    errors             AggregateFunction(countIf, UInt8),
    latency_ms_q       AggregateFunction(quantiles(0.5, 0.9, 0.95, 0.99), Float64),
    ttft_ms_q          AggregateFunction(quantilesIf(0.5, 0.9, 0.95, 0.99), Float64, UInt8),
    prompt_tokens      AggregateFunction(sum, UInt64),
    completion_tokens  AggregateFunction(sum, UInt64),
    total_tokens       AggregateFunction(sum, UInt64),
    cost_usd           AggregateFunction(sum, Float64),
    users              AggregateFunction(uniqIf, String, UInt8),
    conversations      AggregateFunction(uniqIf, String, UInt8)
)
ENGINE = ${replicated}AggregatingMergeTree
PARTITION BY toYYYYMM(bucket)
ORDER BY (project, bucket, service, provider, model)
TTL bucket + INTERVAL ${ttl_inference_days} DAY
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS mv_inference_5m ${on_cluster} TO inference_stats_5m AS
SELECT
    project,
    toDateTime(toStartOfFiveMinutes(started_at), 'UTC') AS bucket,
    service,
    provider,
    model,
    countState() AS requests,
    countIfState(status IN ('error', 'timeout')) AS errors,
    quantilesState(0.5, 0.9, 0.95, 0.99)(latency_ms) AS latency_ms_q,
    quantilesIfState(0.5, 0.9, 0.95, 0.99)(ifNull(ttft_ms, 0.), isNotNull(ttft_ms)) AS ttft_ms_q,
    sumState(toUInt64(prompt_tokens)) AS prompt_tokens,
    sumState(toUInt64(completion_tokens)) AS completion_tokens,
    sumState(toUInt64(total_tokens)) AS total_tokens,
    sumState(cost_usd) AS cost_usd,
    uniqIfState(user_id, user_id != '') AS users,
    uniqIfState(conversation_id, conversation_id != '') AS conversations
FROM inference_logs
GROUP BY project, bucket, service, provider, model;

CREATE TABLE IF NOT EXISTS tool_stats_5m ${on_cluster}
(
    project            LowCardinality(String),
    bucket             DateTime('UTC'),
    service            LowCardinality(String),
    tool_name          LowCardinality(String),
    calls              AggregateFunction(count),
    errors             AggregateFunction(countIf, UInt8),
    latency_ms_q       AggregateFunction(quantiles(0.5, 0.9, 0.95, 0.99), Float64)
)
ENGINE = ${replicated}AggregatingMergeTree
PARTITION BY toYYYYMM(bucket)
ORDER BY (project, bucket, service, tool_name)
TTL bucket + INTERVAL ${ttl_tool_days} DAY
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS mv_tool_5m ${on_cluster} TO tool_stats_5m AS
SELECT
    project,
    toDateTime(toStartOfFiveMinutes(started_at), 'UTC') AS bucket,
    service,
    tool_name,
    countState() AS calls,
    countIfState(status IN ('error', 'timeout')) AS errors,
    quantilesState(0.5, 0.9, 0.95, 0.99)(latency_ms) AS latency_ms_q
FROM tool_executions
GROUP BY project, bucket, service, tool_name;
