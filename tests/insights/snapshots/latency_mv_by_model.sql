SELECT
  *
FROM (
  SELECT
    toTimeZone(
      CAST(toStartOfInterval("t1"."bucket", INTERVAL '1' HOUR) AS Nullable(DateTime('UTC'))),
      'UTC'
    ) AS "bucket",
    "t1"."model" AS "model",
    countMerge("t1"."requests") AS "requests",
    quantilesMerge(0.5, 0.9, 0.95, 0.99)("t1"."latency_ms_q")[1] AS "latency_p50_ms",
    quantilesMerge(0.5, 0.9, 0.95, 0.99)("t1"."latency_ms_q")[3] AS "latency_p95_ms",
    quantilesMerge(0.5, 0.9, 0.95, 0.99)("t1"."latency_ms_q")[4] AS "latency_p99_ms",
    quantilesIfMerge(0.5, 0.9, 0.95, 0.99)("t1"."ttft_ms_q")[1] AS "ttft_p50_ms",
    quantilesIfMerge(0.5, 0.9, 0.95, 0.99)("t1"."ttft_ms_q")[3] AS "ttft_p95_ms",
    quantilesIfMerge(0.5, 0.9, 0.95, 0.99)("t1"."ttft_ms_q")[4] AS "ttft_p99_ms"
  FROM (
    SELECT
      *
    FROM "inference_stats_5m" AS "t0"
    WHERE
      "t0"."bucket" >= parseDateTimeBestEffort('2026-11-01T00:00:00+00:00', 'UTC')
      AND "t0"."bucket" < parseDateTimeBestEffort('2026-11-02T00:00:00+00:00', 'UTC')
      AND "t0"."project" = 'acme'
  ) AS "t1"
  GROUP BY
    toTimeZone(
      CAST(toStartOfInterval("t1"."bucket", INTERVAL '1' HOUR) AS Nullable(DateTime('UTC'))),
      'UTC'
    ),
    "t1"."model"
) AS "t2"
ORDER BY
  "t2"."bucket" ASC,
  "t2"."model" ASC
