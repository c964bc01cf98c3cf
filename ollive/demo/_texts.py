"""Short LLM-style texts for synthetic previews (built once at import, no PII)."""

from __future__ import annotations

import itertools

__all__ = ["ANSWERS", "QUESTIONS", "TOOL_ARGS", "TOOL_RESULTS"]

_ASKS = [
    "Where is my order {n}? It was supposed to arrive on Tuesday and the tracking page has not changed since.",
    "Can you explain how to rotate the API keys for project {n} without downtime for the workers?",
    "Write a Python function that parses ISO-8601 timestamps and returns the number of seconds between them.",
    "Summarise the attached incident report {n} in three bullet points for the weekly review.",
    "Why does my pandas groupby on {n} million rows run out of memory, and what should I try instead?",
    "What is the refund policy for annual plans that are cancelled in the first {n} days?",
    "Translate the following release notes into German, keeping the product names in English: version {n}.",
    "How do I configure single sign-on with Okta for the workspace, and which roles map to admins?",
    "Compare the latency of the two deployments in region eu-{n} over the last day and suggest a fix.",
    "Draft a polite reply to a customer who was charged twice for invoice INV-{n}.",
]
_SUFFIX = ["", " Please keep it short.", " Use a table if that helps.", " Thanks!"]
_REPLIES = [
    "Your order {n} left our warehouse yesterday and is with the carrier; the tracking page updates once it is scanned at the next hub, usually within 24 hours.",
    "To rotate keys without downtime, create the new key first, deploy it to the workers, check the error rate for {n} minutes, then revoke the old key.",
    "Here is a function using datetime.fromisoformat: def seconds_between(a, b): return (datetime.fromisoformat(b) - datetime.fromisoformat(a)).total_seconds()",
    "- Root cause: a cache node ran out of memory.\n- Impact: {n} minutes of elevated latency.\n- Follow-up: add memory alerts and a runbook.",
    "Try reading the data in chunks, using categorical dtypes for the string columns, or an engine such as DuckDB or ClickHouse for the aggregation of {n} million rows.",
    "Annual plans cancelled within {n} days are refunded in full; after that, the unused months are refunded pro rata to the original payment method.",
    "I could not complete that request because the upstream service timed out; please try again in a moment.",
    "Single sign-on is configured under Settings > Security: add the Okta metadata URL, map the group 'eng-admins' to the Admin role, and test with one user first.",
]
_ARGS = [
    '{{"order_id": "ORD-{n}"}}',
    '{{"query": "refund policy annual plan", "top_k": {n}}}',
    '{{"expression": "{n} * 12 / 7"}}',
    '{{"city": "Lisbon", "units": "metric", "days": {n}}}',
    '{{"to": "team-lead", "subject": "Incident {n} summary"}}',
    '{{"sql": "SELECT model, count() FROM calls WHERE day = today() - {n} GROUP BY model"}}',
]
_RESULTS = [
    '{{"status": "shipped", "carrier": "DHL", "eta_days": {n}}}',
    '[{{"title": "Refunds", "score": 0.9{n}}}, {{"title": "Billing FAQ", "score": 0.71}}]',
    '{{"result": {n}.714285}}',
    '{{"forecast": "sunny", "max_c": 2{n}, "min_c": 14}}',
    '{{"sent": true, "message_id": "m-{n}"}}',
    '{{"rows": {n}, "elapsed_ms": 38}}',
]


def _expand(templates: list[str], variants: int, suffixes: list[str] | None = None) -> list[str]:
    out = []
    for template, n in itertools.product(templates, range(variants)):
        text = template.format(n=1000 + 37 * n)
        if suffixes:
            text += suffixes[n % len(suffixes)]
        out.append(text)
    return out


QUESTIONS = _expand(_ASKS, 8, _SUFFIX)
ANSWERS = _expand(_REPLIES, 8)
TOOL_ARGS = _expand(_ARGS, 5)
TOOL_RESULTS = _expand(_RESULTS, 5)
