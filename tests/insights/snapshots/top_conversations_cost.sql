SELECT
  *
FROM (
  SELECT
    "t1"."conversation_id" AS "conversation_id",
    any("t1"."user_id") AS "user_id",
    any("t1"."session_id") AS "session_id",
    any("t1"."service") AS "service",
    groupUniqArray("t1"."model") AS "models",
    MIN("t1"."started_at") AS "started_at",
    MAX("t1"."finished_at") AS "ended_at",
    COUNT(*) AS "requests",
    countIf("t1"."status" IN ('error', 'timeout')) AS "errors",
    SUM(CAST("t1"."total_tokens" AS Nullable(Int64))) AS "total_tokens",
    SUM("t1"."cost_usd") AS "cost_usd",
    quantile(0.95)("t1"."latency_ms") AS "latency_p95_ms",
    SUM("t1"."latency_ms") AS "latency_total_ms"
  FROM (
    SELECT
      *
    FROM "inference_logs" AS "t0"
    WHERE
      "t0"."started_at" >= parseDateTimeBestEffort('2026-11-01T00:00:00+00:00', 'UTC')
      AND "t0"."started_at" < parseDateTimeBestEffort('2026-11-02T00:00:00+00:00', 'UTC')
      AND "t0"."project" = 'acme'
      AND "t0"."conversation_id" <> ''
  ) AS "t1"
  GROUP BY
    "t1"."conversation_id"
) AS "t2"
ORDER BY
  "t2"."cost_usd" DESC,
  "t2"."conversation_id" ASC
LIMIT 20
