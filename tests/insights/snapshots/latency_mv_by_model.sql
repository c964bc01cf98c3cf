SELECT
  "t6"."bucket" AS "bucket",
  "t6"."model" AS "model",
  "t6"."requests" AS "requests",
  "t6"."latency_p50" AS "latency_p50_ms",
  "t6"."latency_p95" AS "latency_p95_ms",
  "t6"."latency_p99" AS "latency_p99_ms",
  "t6"."ttft_p50" AS "ttft_p50_ms",
  "t6"."ttft_p95" AS "ttft_p95_ms",
  "t6"."ttft_p99" AS "ttft_p99_ms"
FROM (
  SELECT
    "t5".*
    EXCEPT ("ttft_q")
  FROM (
    SELECT
      "t4"."bucket" AS "bucket",
      "t4"."model" AS "model",
      "t4"."requests" AS "requests",
      "t4"."ttft_q" AS "ttft_q",
      "t4"."latency_p50" AS "latency_p50",
      "t4"."latency_p95" AS "latency_p95",
      "t4"."latency_p99" AS "latency_p99",
      "t4"."ttft_q"[1] AS "ttft_p50",
      "t4"."ttft_q"[3] AS "ttft_p95",
      "t4"."ttft_q"[4] AS "ttft_p99"
    FROM (
      SELECT
        "t3".*
        EXCEPT ("latency_q")
      FROM (
        SELECT
          "t2"."bucket" AS "bucket",
          "t2"."model" AS "model",
          "t2"."requests" AS "requests",
          "t2"."latency_q" AS "latency_q",
          "t2"."ttft_q" AS "ttft_q",
          "t2"."latency_q"[1] AS "latency_p50",
          "t2"."latency_q"[3] AS "latency_p95",
          "t2"."latency_q"[4] AS "latency_p99"
        FROM (
          SELECT
            toTimeZone(
              CAST(toStartOfInterval("t1"."bucket", INTERVAL '1' HOUR) AS Nullable(DateTime('UTC'))),
              'UTC'
            ) AS "bucket",
            "t1"."model" AS "model",
            countMerge("t1"."requests") AS "requests",
            arrayReduce('quantilesMerge(0.5, 0.9, 0.95, 0.99)', groupArray("t1"."latency_ms_q")) AS "latency_q",
            arrayReduce('quantilesIfMerge(0.5, 0.9, 0.95, 0.99)', groupArray("t1"."ttft_ms_q")) AS "ttft_q"
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
      ) AS "t3"
    ) AS "t4"
  ) AS "t5"
) AS "t6"
ORDER BY
  "t6"."bucket" ASC,
  "t6"."model" ASC
