SELECT
  *
FROM (
  SELECT
    "t1"."user_id" AS "user",
    COUNT(*) AS "requests",
    SUM(CAST("t1"."prompt_tokens" AS Nullable(Int64))) AS "prompt_tokens",
    SUM(CAST("t1"."completion_tokens" AS Nullable(Int64))) AS "completion_tokens",
    SUM(CAST("t1"."total_tokens" AS Nullable(Int64))) AS "total_tokens",
    SUM("t1"."cost_usd") AS "cost_usd"
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
    "t1"."user_id"
) AS "t2"
ORDER BY
  "t2"."cost_usd" DESC
