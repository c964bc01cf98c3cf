SELECT
  "t3".*
  EXCEPT ("latency_q")
FROM (
  SELECT
    "t2"."bucket" AS "bucket",
    "t2"."service" AS "service",
    "t2"."requests" AS "requests",
    "t2"."errors" AS "errors",
    "t2"."latency_q" AS "latency_q",
    "t2"."cost_usd" AS "cost_usd",
    "t2"."latency_q"[1] AS "latency_p50",
    "t2"."latency_q"[3] AS "latency_p95"
  FROM (
    SELECT
      toTimeZone(
        CAST(toStartOfInterval("t1"."bucket", INTERVAL '1' HOUR) AS Nullable(DateTime('UTC'))),
        'UTC'
      ) AS "bucket",
      "t1"."service" AS "service",
      countMerge("t1"."requests") AS "requests",
      countIfMerge("t1"."errors") AS "errors",
      arrayReduce('quantilesMerge(0.5, 0.9, 0.95, 0.99)', groupArray("t1"."latency_ms_q")) AS "latency_q",
      sumMerge("t1"."cost_usd") AS "cost_usd"
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
  ) AS "t2"
) AS "t3"
