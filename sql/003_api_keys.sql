-- API keys (issue 9): one row per key version, hashed, never the key itself.
-- `ollive keys create` inserts version 1; `ollive keys revoke` inserts the same key_id with a
-- higher version and revoked = 1. Read with FINAL (the latest version of each key wins).
-- key_hash = hex(SHA-256(salt || secret)); the secret is shown once, at creation.

CREATE TABLE IF NOT EXISTS api_keys ${on_cluster}
(
    key_id      String,
    project     LowCardinality(String),
    name        String,
    salt        String,
    key_hash    String,
    created_at  DateTime64(3, 'UTC'),
    revoked     UInt8,
    revoked_at  Nullable(DateTime64(3, 'UTC')),
    version     UInt64
)
ENGINE = ${replicated}ReplacingMergeTree(version)
ORDER BY key_id;
