"""``python -m ollive.cli`` is the ``ollive`` command."""

from ollive.cli.app import main

main()
