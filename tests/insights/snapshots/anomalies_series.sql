SELECT
  toTimeZone(
    CAST(toStartOfInterval("t1"."bucket", INTERVAL '1' HOUR) AS Nullable(DateTime('UTC'))),
    'UTC'
  ) AS "bucket",
  "t1"."service" AS "service",
  countMerge("t1"."requests") AS "requests",
  countIfMerge("t1"."errors") AS "errors",
  sumMerge("t1"."cost_usd") AS "cost_usd",
  quantilesMerge(0.5, 0.9, 0.95, 0.99)("t1"."latency_ms_q")[1] AS "latency_p50",
  quantilesMerge(0.5, 0.9, 0.95, 0.99)("t1"."latency_ms_q")[3] AS "latency_p95"
FROM (
  SELECT
    *
  FROM "inference_stats_5m" AS "t0"
  WHERE
    "t0"."bucket" >= parseDateTimeBestEffort('2026-10-25T00:00:00+00:00', 'UTC')
    AND "t0"."bucket" < parseDateTimeBestEffort('2026-11-02T00:00:00+00:00', 'UTC')
    AND "t0"."project" = 'acme'
) AS "t1"
GROUP BY
  toTimeZone(
    CAST(toStartOfInterval("t1"."bucket", INTERVAL '1' HOUR) AS Nullable(DateTime('UTC'))),
    'UTC'
  ),
  "t1"."service"
