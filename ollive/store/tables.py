"""The raw tables as Arrow schemas: what writers and synthetic data insert.

Column names and types follow ``sql/001_raw_tables.sql`` and the columns later files add
(``005_prompt_versions.sql``), in the order the tables hold them. UUIDs travel as strings
(the warehouse casts them), timestamps as UTC milliseconds, ``metadata`` as JSON text,
``redactions`` as a map of entity type to count.
"""

from __future__ import annotations

import pyarrow as pa

__all__ = ["AGGREGATES", "RAW_TABLES", "TABLE_FOR_LOG_TYPE", "TIME_COLUMNS", "arrow_schema"]

_TS = pa.timestamp("ms", tz="UTC")
_REDACTIONS = pa.map_(pa.string(), pa.uint32())
_IDS = [
    ("trace_id", pa.string()),
    ("span_id", pa.string()),
    ("parent_span_id", pa.string()),
    ("conversation_id", pa.string()),
    ("session_id", pa.string()),
    ("user_id", pa.string()),
]
_TAIL = [
    ("metadata", pa.string()),
    ("redactions", _REDACTIONS),
    ("schema_version", pa.string()),
    ("ingested_at", _TS),
]

RAW_TABLES: dict[str, pa.Schema] = {
    "inference_logs": pa.schema(
        [
            ("project", pa.string()),
            ("request_id", pa.string()),
            *_IDS,
            ("service", pa.string()),
            ("provider", pa.string()),
            ("model", pa.string()),
            ("started_at", _TS),
            ("finished_at", _TS),
            ("latency_ms", pa.float64()),
            ("ttft_ms", pa.float64()),
            ("stream", pa.bool_()),
            ("prompt_tokens", pa.uint32()),
            ("completion_tokens", pa.uint32()),
            ("total_tokens", pa.uint32()),
            ("cached_prompt_tokens", pa.uint32()),
            ("cost_usd", pa.float64()),
            ("status", pa.string()),
            ("finish_reason", pa.string()),
            ("tool_calls_count", pa.uint16()),
            ("tool_calls_summary", pa.string()),
            ("error_code", pa.string()),
            ("error_message", pa.string()),
            ("input_preview", pa.string()),
            ("output_preview", pa.string()),
            ("prompt_name", pa.string()),  # contract v1.1 (sql/005_prompt_versions.sql)
            ("prompt_version", pa.string()),
            ("prompt_hash", pa.string()),
            *_TAIL,
        ]
    ),
    "tool_executions": pa.schema(
        [
            ("project", pa.string()),
            ("request_id", pa.string()),
            ("parent_request_id", pa.string()),
            *_IDS,
            ("service", pa.string()),
            ("tool_name", pa.string()),
            ("started_at", _TS),
            ("finished_at", _TS),
            ("latency_ms", pa.float64()),
            ("status", pa.string()),
            ("error_code", pa.string()),
            ("error_message", pa.string()),
            ("args_preview", pa.string()),
            ("result_preview", pa.string()),
            *_TAIL,
        ]
    ),
    "application_logs": pa.schema(
        [
            ("project", pa.string()),
            ("request_id", pa.string()),
            ("timestamp", _TS),
            ("service", pa.string()),
            ("level", pa.string()),
            ("logger", pa.string()),
            ("message", pa.string()),
            ("attributes", pa.string()),
            *_IDS,
            *_TAIL,
        ]
    ),
    "scores": pa.schema(
        [
            ("project", pa.string()),
            ("request_id", pa.string()),
            ("timestamp", _TS),
            ("target_request_id", pa.string()),
            ("name", pa.string()),
            ("value", pa.float64()),
            ("comment", pa.string()),
            ("source", pa.string()),
            *_IDS,
            ("service", pa.string()),
            *_TAIL,
        ]
    ),
}

TABLE_FOR_LOG_TYPE = {
    "inference": "inference_logs",
    "tool_execution": "tool_executions",
    "application": "application_logs",
    "score": "scores",
}

#: raw table -> the time column its partitions, TTL, buckets and time filters use
TIME_COLUMNS: dict[str, str] = {
    "inference_logs": "started_at",
    "tool_executions": "started_at",
    "application_logs": "timestamp",
    "scores": "timestamp",
}

# aggregate target -> (its materialized view, the raw table it reads, the time column)
AGGREGATES = {
    "inference_stats_5m": ("mv_inference_5m", "inference_logs", "started_at"),
    "tool_stats_5m": ("mv_tool_5m", "tool_executions", "started_at"),
}


def arrow_schema(table: str) -> pa.Schema:
    """The Arrow schema of a raw table; raises KeyError naming the known tables."""
    try:
        return RAW_TABLES[table]
    except KeyError:
        raise KeyError(f"unknown table {table!r}; raw tables are {sorted(RAW_TABLES)}") from None
