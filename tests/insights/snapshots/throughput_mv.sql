SELECT
  "t2"."bucket" AS "bucket",
  "t2"."requests" AS "requests",
  "t2"."errors" AS "errors",
  CASE
    WHEN "t2"."requests" > 0
    THEN CAST("t2"."errors" AS Nullable(Float64)) / "t2"."requests"
    ELSE 0.0
  END AS "error_rate",
  CAST("t2"."requests" AS Nullable(Float64)) / 300 AS "requests_per_s"
FROM (
  SELECT
    "t1"."bucket" AS "bucket",
    countMerge("t1"."requests") AS "requests",
    countIfMerge("t1"."errors") AS "errors"
  FROM (
    SELECT
      *
    FROM "inference_stats_5m" AS "t0"
    WHERE
      "t0"."bucket" >= parseDateTimeBestEffort('2026-11-01T00:00:00+00:00', 'UTC')
      AND "t0"."bucket" < parseDateTimeBestEffort('2026-11-02T00:00:00+00:00', 'UTC')
      AND "t0"."project" = 'acme'
      AND "t0"."service" = 'support-bot'
  ) AS "t1"
  GROUP BY
    "t1"."bucket"
) AS "t2"
ORDER BY
  "t2"."bucket" ASC
