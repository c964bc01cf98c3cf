SELECT
  "t6"."bucket" AS "bucket",
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
          "t2"."requests" AS "requests",
          "t2"."latency_q" AS "latency_q",
          "t2"."ttft_q" AS "ttft_q",
          "t2"."latency_q"[1] AS "latency_p50",
          "t2"."latency_q"[3] AS "latency_p95",
          "t2"."latency_q"[4] AS "latency_p99"
        FROM (
          SELECT
            toTimeZone(
              CAST(toStartOfInterval("t1"."started_at", INTERVAL '1' MINUTE) AS Nullable(DateTime('UTC'))),
              'UTC'
            ) AS "bucket",
            COUNT(*) AS "requests",
            quantiles(0.5, 0.9, 0.95, 0.99)("t1"."latency_ms") AS "latency_q",
            quantiles(0.5, 0.9, 0.95, 0.99)("t1"."ttft_ms") AS "ttft_q"
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
      ) AS "t3"
    ) AS "t4"
  ) AS "t5"
) AS "t6"
ORDER BY
  "t6"."bucket" ASC
