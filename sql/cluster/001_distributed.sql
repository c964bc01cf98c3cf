-- Cluster variant, applied by `ollive migrate --cluster NAME` after the numbered base files
-- (which that flag renders with ON CLUSTER and Replicated* engines). Each shard holds the
-- local tables of sql/*.sql; these Distributed tables read (and can write) across shards.
--
-- Raw tables are sharded by cityHash64(project, request_id): a retried event always lands on
-- the shard that holds its first copy, so ReplacingMergeTree still collapses it there and the
-- 5-minute MVs (which run on each shard's local inserts) count it once.
-- The aggregate tables are read-only views over every shard's states: read them with the
-- -Merge combinators as usual (no sharding key, so an insert into them is refused).

CREATE TABLE IF NOT EXISTS inference_logs_all ${on_cluster} AS inference_logs
ENGINE = Distributed('${cluster}', currentDatabase(), inference_logs, cityHash64(project, request_id));

CREATE TABLE IF NOT EXISTS tool_executions_all ${on_cluster} AS tool_executions
ENGINE = Distributed('${cluster}', currentDatabase(), tool_executions, cityHash64(project, request_id));

CREATE TABLE IF NOT EXISTS application_logs_all ${on_cluster} AS application_logs
ENGINE = Distributed('${cluster}', currentDatabase(), application_logs, cityHash64(project, request_id));

CREATE TABLE IF NOT EXISTS scores_all ${on_cluster} AS scores
ENGINE = Distributed('${cluster}', currentDatabase(), scores, cityHash64(project, request_id));

CREATE TABLE IF NOT EXISTS inference_stats_5m_all ${on_cluster} AS inference_stats_5m
ENGINE = Distributed('${cluster}', currentDatabase(), inference_stats_5m);

CREATE TABLE IF NOT EXISTS tool_stats_5m_all ${on_cluster} AS tool_stats_5m
ENGINE = Distributed('${cluster}', currentDatabase(), tool_stats_5m);
