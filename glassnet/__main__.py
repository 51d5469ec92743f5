"""``python -m glassnet ...`` runs the ``glassnet`` command."""

from glassnet.cli import main

raise SystemExit(main())
