-- The prompt columns of sql/005_prompt_versions.sql on the Distributed table too:
-- inference_logs_all was created AS inference_logs, which copies the columns once. On a
-- cluster migrated before 005 it lacks them; on a fresh one this changes nothing.

ALTER TABLE inference_logs_all ${on_cluster}
    ADD COLUMN IF NOT EXISTS prompt_name LowCardinality(String) DEFAULT '' AFTER output_preview,
    ADD COLUMN IF NOT EXISTS prompt_version LowCardinality(String) DEFAULT '' AFTER prompt_name,
    ADD COLUMN IF NOT EXISTS prompt_hash String DEFAULT '' AFTER prompt_version;
