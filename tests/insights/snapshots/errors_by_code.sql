SELECT
  "t4"."error_code" AS "error_code",
  "t4"."errors" AS "errors",
  "t4"."last_seen" AS "last_seen",
  "t4"."example" AS "example",
  CAST("t4"."errors" AS Nullable(Float64)) / (
    SELECT
      COUNT(*) AS "CountStar()"
    FROM (
      SELECT
        *
      FROM "inference_logs" AS "t0"
      WHERE
        "t0"."started_at" >= parseDateTimeBestEffort('2026-11-01T00:00:00+00:00', 'UTC')
        AND "t0"."started_at" < parseDateTimeBestEffort('2026-11-02T00:00:00+00:00', 'UTC')
        AND "t0"."project" = 'acme'
    ) AS "t1"
  ) AS "share_of_requests"
FROM (
  SELECT
    "t2"."error_code" AS "error_code",
    COUNT(*) AS "errors",
    MAX("t2"."started_at") AS "last_seen",
    any("t2"."error_message") AS "example"
  FROM (
    SELECT
      *
    FROM "inference_logs" AS "t0"
    WHERE
      "t0"."started_at" >= parseDateTimeBestEffort('2026-11-01T00:00:00+00:00', 'UTC')
      AND "t0"."started_at" < parseDateTimeBestEffort('2026-11-02T00:00:00+00:00', 'UTC')
      AND "t0"."project" = 'acme'
      AND "t0"."status" IN ('error', 'timeout')
  ) AS "t2"
  GROUP BY
    "t2"."error_code"
) AS "t4"
ORDER BY
  "t4"."errors" DESC
LIMIT 50
