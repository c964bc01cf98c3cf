SELECT
  *
FROM (
  SELECT
    "t1"."tool_name" AS "tool_name",
    countMerge("t1"."calls") AS "calls",
    countIfMerge("t1"."errors") AS "errors",
    CASE
      WHEN countMerge("t1"."calls") > 0
      THEN CAST(countIfMerge("t1"."errors") AS Nullable(Float64)) / countMerge("t1"."calls")
      ELSE 0.0
    END AS "error_rate",
    quantilesMerge(0.5, 0.9, 0.95, 0.99)("t1"."latency_ms_q")[1] AS "latency_p50_ms",
    quantilesMerge(0.5, 0.9, 0.95, 0.99)("t1"."latency_ms_q")[3] AS "latency_p95_ms",
    quantilesMerge(0.5, 0.9, 0.95, 0.99)("t1"."latency_ms_q")[4] AS "latency_p99_ms"
  FROM (
    SELECT
      *
    FROM "tool_stats_5m" AS "t0"
    WHERE
      "t0"."bucket" >= parseDateTimeBestEffort('2026-11-01T00:00:00+00:00', 'UTC')
      AND "t0"."bucket" < parseDateTimeBestEffort('2026-11-02T00:00:00+00:00', 'UTC')
      AND "t0"."project" = 'acme'
  ) AS "t1"
  GROUP BY
    "t1"."tool_name"
) AS "t2"
ORDER BY
  "t2"."latency_p95_ms" DESC,
  "t2"."tool_name" ASC
