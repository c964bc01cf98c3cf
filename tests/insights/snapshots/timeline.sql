SELECT
  *
FROM (
  SELECT
    *
  FROM (
    SELECT
      *
    FROM (
      SELECT
        toTimeZone(CAST("t0"."started_at" AS Nullable(DateTime64(3, 'UTC'))), 'UTC') AS "timestamp",
        'inference' AS "kind",
        CAST("t0"."request_id" AS Nullable(String)) AS "request_id",
        CAST(NULL AS Nullable(String)) AS "parent_request_id",
        CAST("t0"."span_id" AS Nullable(String)) AS "span_id",
        CAST("t0"."parent_span_id" AS Nullable(String)) AS "parent_span_id",
        CAST("t0"."model" AS Nullable(String)) AS "name",
        CAST("t0"."status" AS Nullable(String)) AS "status",
        CAST("t0"."latency_ms" AS Nullable(Float64)) AS "latency_ms",
        CAST("t0"."total_tokens" AS Nullable(Int64)) AS "total_tokens",
        CAST("t0"."cost_usd" AS Nullable(Float64)) AS "cost_usd",
        CAST(NULL AS Nullable(Float64)) AS "value",
        CAST("t0"."output_preview" AS Nullable(String)) AS "text",
        CAST("t0"."conversation_id" AS Nullable(String)) AS "conversation_id",
        CAST("t0"."session_id" AS Nullable(String)) AS "session_id"
      FROM "inference_logs" AS "t0"
      WHERE
        "t0"."conversation_id" = 'conv-1' AND "t0"."project" = 'acme'
    ) AS "t4"
    UNION ALL
    SELECT
      *
    FROM (
      SELECT
        toTimeZone(CAST("t1"."started_at" AS Nullable(DateTime64(3, 'UTC'))), 'UTC') AS "timestamp",
        'tool' AS "kind",
        CAST("t1"."request_id" AS Nullable(String)) AS "request_id",
        CAST("t1"."parent_request_id" AS Nullable(String)) AS "parent_request_id",
        CAST("t1"."span_id" AS Nullable(String)) AS "span_id",
        CAST("t1"."parent_span_id" AS Nullable(String)) AS "parent_span_id",
        CAST("t1"."tool_name" AS Nullable(String)) AS "name",
        CAST("t1"."status" AS Nullable(String)) AS "status",
        CAST("t1"."latency_ms" AS Nullable(Float64)) AS "latency_ms",
        CAST(NULL AS Nullable(Int64)) AS "total_tokens",
        CAST(NULL AS Nullable(Float64)) AS "cost_usd",
        CAST(NULL AS Nullable(Float64)) AS "value",
        CAST("t1"."result_preview" AS Nullable(String)) AS "text",
        CAST("t1"."conversation_id" AS Nullable(String)) AS "conversation_id",
        CAST("t1"."session_id" AS Nullable(String)) AS "session_id"
      FROM "tool_executions" AS "t1"
      WHERE
        "t1"."conversation_id" = 'conv-1' AND "t1"."project" = 'acme'
    ) AS "t5"
  ) AS "t8"
  UNION ALL
  SELECT
    *
  FROM (
    SELECT
      *
    FROM (
      SELECT
        toTimeZone(CAST("t2"."timestamp" AS Nullable(DateTime64(3, 'UTC'))), 'UTC') AS "timestamp",
        'log' AS "kind",
        CAST("t2"."request_id" AS Nullable(String)) AS "request_id",
        CAST(NULL AS Nullable(String)) AS "parent_request_id",
        CAST("t2"."span_id" AS Nullable(String)) AS "span_id",
        CAST("t2"."parent_span_id" AS Nullable(String)) AS "parent_span_id",
        CAST("t2"."logger" AS Nullable(String)) AS "name",
        CAST("t2"."level" AS Nullable(String)) AS "status",
        CAST(NULL AS Nullable(Float64)) AS "latency_ms",
        CAST(NULL AS Nullable(Int64)) AS "total_tokens",
        CAST(NULL AS Nullable(Float64)) AS "cost_usd",
        CAST(NULL AS Nullable(Float64)) AS "value",
        CAST("t2"."message" AS Nullable(String)) AS "text",
        CAST("t2"."conversation_id" AS Nullable(String)) AS "conversation_id",
        CAST("t2"."session_id" AS Nullable(String)) AS "session_id"
      FROM "application_logs" AS "t2"
      WHERE
        "t2"."conversation_id" = 'conv-1' AND "t2"."project" = 'acme'
    ) AS "t6"
    UNION ALL
    SELECT
      *
    FROM (
      SELECT
        toTimeZone(CAST("t3"."timestamp" AS Nullable(DateTime64(3, 'UTC'))), 'UTC') AS "timestamp",
        'score' AS "kind",
        CAST("t3"."request_id" AS Nullable(String)) AS "request_id",
        CAST("t3"."target_request_id" AS Nullable(String)) AS "parent_request_id",
        CAST("t3"."span_id" AS Nullable(String)) AS "span_id",
        CAST("t3"."parent_span_id" AS Nullable(String)) AS "parent_span_id",
        CAST("t3"."name" AS Nullable(String)) AS "name",
        CAST("t3"."source" AS Nullable(String)) AS "status",
        CAST(NULL AS Nullable(Float64)) AS "latency_ms",
        CAST(NULL AS Nullable(Int64)) AS "total_tokens",
        CAST(NULL AS Nullable(Float64)) AS "cost_usd",
        CAST("t3"."value" AS Nullable(Float64)) AS "value",
        CAST("t3"."comment" AS Nullable(String)) AS "text",
        CAST("t3"."conversation_id" AS Nullable(String)) AS "conversation_id",
        CAST("t3"."session_id" AS Nullable(String)) AS "session_id"
      FROM "scores" AS "t3"
      WHERE
        "t3"."conversation_id" = 'conv-1' AND "t3"."project" = 'acme'
    ) AS "t7"
  ) AS "t9"
) AS "t10"
ORDER BY
  "t10"."timestamp" ASC,
  "t10"."kind" ASC,
  "t10"."request_id" ASC
