SELECT
  *
FROM (
  SELECT
    toTimeZone(
      CAST(toStartOfInterval("t1"."started_at", INTERVAL '1' MINUTE) AS Nullable(DateTime('UTC'))),
      'UTC'
    ) AS "bucket",
    COUNT(*) AS "requests",
    quantiles(0.5, 0.9, 0.95, 0.99)("t1"."latency_ms")[1] AS "latency_p50_ms",
    quantiles(0.5, 0.9, 0.95, 0.99)("t1"."latency_ms")[3] AS "latency_p95_ms",
    quantiles(0.5, 0.9, 0.95, 0.99)("t1"."latency_ms")[4] AS "latency_p99_ms",
    quantiles(0.5, 0.9, 0.95, 0.99)("t1"."ttft_ms")[1] AS "ttft_p50_ms",
    quantiles(0.5, 0.9, 0.95, 0.99)("t1"."ttft_ms")[3] AS "ttft_p95_ms",
    quantiles(0.5, 0.9, 0.95, 0.99)("t1"."ttft_ms")[4] AS "ttft_p99_ms"
  FROM (
    SELECT
      *
    FROM "inference_logs" AS "t0"
    WHERE
      "t0"."started_at" >= parseDateTimeBestEffort('2026-11-01T00:00:00+00:00', 'UTC')
      AND "t0"."started_at" < parseDateTimeBestEffort('2026-11-02T00:00:00+00:00', 'UTC')
      AND "t0"."project" = 'acme'
  ) AS "t1"
  GROUP BY
    toTimeZone(
      CAST(toStartOfInterval("t1"."started_at", INTERVAL '1' MINUTE) AS Nullable(DateTime('UTC'))),
      'UTC'
    )
) AS "t2"
ORDER BY
  "t2"."bucket" ASC
