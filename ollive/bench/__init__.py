"""Every benchmark, soak and capacity run behind ``ollive bench …`` (wiring, ring 3).

Product packages hold no benchmark code; each module here drives them from outside, on the
shared workload of :mod:`ollive.bench._workload` (built on :mod:`ollive.demo`'s generators).
Every ``ollive bench …`` command ends with one JSON line. Only :mod:`ollive.cli` imports
this package.
"""

from ollive.bench._workload import (
    BenchResult,
    bench_warehouse,
    count_service_rows,
    drive,
    free_port,
    make_batches,
    make_events,
)

__all__ = [
    "BenchResult",
    "bench_warehouse",
    "count_service_rows",
    "drive",
    "free_port",
    "make_batches",
    "make_events",
]
