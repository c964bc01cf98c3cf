-- The pipeline's own figures across shards (each shard's writers report into its local table).
CREATE TABLE IF NOT EXISTS pipeline_stats_all ${on_cluster} AS pipeline_stats
ENGINE = Distributed('${cluster}', currentDatabase(), pipeline_stats, rand());
