-- Prompt versions (contract v1.1): the prompt template an inference was made from, its
-- version and the hash of its text (the first 16 hex digits of its SHA-256), '' when the
-- event has none (every event written before this migration, and v1.0 events).
-- Placed after output_preview, where ollive.store.tables lists them; ADD COLUMN is a
-- metadata change (old parts read the DEFAULT, nothing is rewritten). The 5-minute
-- aggregates have no prompt dimension: ollive.insights.prompts reads the raw rows.

ALTER TABLE inference_logs ${on_cluster}
    ADD COLUMN IF NOT EXISTS prompt_name LowCardinality(String) DEFAULT '' AFTER output_preview,
    ADD COLUMN IF NOT EXISTS prompt_version LowCardinality(String) DEFAULT '' AFTER prompt_name,
    ADD COLUMN IF NOT EXISTS prompt_hash String DEFAULT '' AFTER prompt_version;
