SELECT
  "t2"."period" AS "period",
  "t2"."requests" AS "requests",
  "t2"."errors" AS "errors",
  "t2"."error_rate" AS "error_rate",
  "t2"."latency_p95_ms" AS "latency_p95_ms",
  "t2"."total_tokens" AS "total_tokens",
  "t2"."cost_usd" AS "cost_usd",
  "t2"."users" AS "users",
  "t2"."conversations" AS "conversations"
FROM (
  SELECT
    CASE
      WHEN "t1"."bucket" >= parseDateTimeBestEffort('2026-11-01T00:00:00+00:00', 'UTC')
      THEN 'current'
      ELSE 'previous'
    END AS "period",
    countMerge("t1"."requests") AS "requests",
    countIfMerge("t1"."errors") AS "errors",
    sumMerge("t1"."total_tokens") AS "total_tokens",
    sumMerge("t1"."cost_usd") AS "cost_usd",
    uniqIfMerge("t1"."users") AS "users",
    uniqIfMerge("t1"."conversations") AS "conversations",
    quantilesMerge(0.5, 0.9, 0.95, 0.99)("t1"."latency_ms_q")[3] AS "latency_p95_ms",
    CASE
      WHEN countMerge("t1"."requests") > 0
      THEN CAST(countIfMerge("t1"."errors") AS Nullable(Float64)) / countMerge("t1"."requests")
      ELSE 0.0
    END AS "error_rate"
  FROM (
    SELECT
      *
    FROM "inference_stats_5m" AS "t0"
    WHERE
      "t0"."bucket" >= parseDateTimeBestEffort('2026-10-31T00:00:00+00:00', 'UTC')
      AND "t0"."bucket" < parseDateTimeBestEffort('2026-11-02T00:00:00+00:00', 'UTC')
      AND "t0"."project" = 'acme'
  ) AS "t1"
  GROUP BY
    CASE
      WHEN "t1"."bucket" >= parseDateTimeBestEffort('2026-11-01T00:00:00+00:00', 'UTC')
      THEN 'current'
      ELSE 'previous'
    END
) AS "t2"
