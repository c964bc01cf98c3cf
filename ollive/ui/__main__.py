"""``python -m ollive.ui``: serve the dashboard, for a supervisor that starts it as a process.

``ollive up`` starts it this way (the CLI's ``ollive dashboard`` calls the same
:func:`~ollive.ui.serve.serve_dashboard`). The login, when there is one, comes in
``OLLIVE_DASHBOARD_AUTH`` (never on the command line, where ``ps`` would show it).
"""

from __future__ import annotations

import argparse
import os

from ollive.ui.serve import serve_dashboard


def main(argv: list[str] | None = None) -> None:
    """Parse the arguments and serve until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m ollive.ui", description=__doc__)
    parser.add_argument("--port", type=int, default=5006)
    parser.add_argument("--address", default="127.0.0.1")
    parser.add_argument("--warehouse", default=None, help="warehouse URL (default: resolved)")
    parser.add_argument("--project", default=None, help="only this project (default: all)")
    parser.add_argument("--refresh", type=float, default=60.0, help="seconds between refreshes")
    parser.add_argument("--alert-rules", default=None, help="alert rules file for the alerts page")
    args = parser.parse_args(argv)
    print(f"Ollive dashboard on http://{args.address}:{args.port}/", flush=True)
    serve_dashboard(
        args.warehouse,
        port=args.port,
        address=args.address,
        auth=os.environ.get("OLLIVE_DASHBOARD_AUTH") or None,
        project=args.project,
        refresh_s=args.refresh,
        alert_rules=args.alert_rules,
    )


if __name__ == "__main__":
    main()
