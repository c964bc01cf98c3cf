SELECT
  "t4"."tool_name" AS "tool_name",
  "t4"."calls" AS "calls",
  "t4"."errors" AS "errors",
  "t4"."error_rate" AS "error_rate",
  "t4"."latency_p50" AS "latency_p50_ms",
  "t4"."latency_p95" AS "latency_p95_ms",
  "t4"."latency_p99" AS "latency_p99_ms"
FROM (
  SELECT
    "t3".*
    EXCEPT ("latency_q")
  FROM (
    SELECT
      "t2"."tool_name" AS "tool_name",
      "t2"."calls" AS "calls",
      "t2"."errors" AS "errors",
      "t2"."latency_q" AS "latency_q",
      CASE
        WHEN "t2"."calls" > 0
        THEN CAST("t2"."errors" AS Nullable(Float64)) / "t2"."calls"
        ELSE 0.0
      END AS "error_rate",
      "t2"."latency_q"[1] AS "latency_p50",
      "t2"."latency_q"[3] AS "latency_p95",
      "t2"."latency_q"[4] AS "latency_p99"
    FROM (
      SELECT
        "t1"."tool_name" AS "tool_name",
        countMerge("t1"."calls") AS "calls",
        countIfMerge("t1"."errors") AS "errors",
        arrayReduce('quantilesMerge(0.5, 0.9, 0.95, 0.99)', groupArray("t1"."latency_ms_q")) AS "latency_q"
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
  ) AS "t3"
) AS "t4"
ORDER BY
  "t4"."latency_p95" DESC,
  "t4"."tool_name" ASC
