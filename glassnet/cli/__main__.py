"""``python -m glassnet.cli``: the ``glassnet`` command."""

from glassnet.cli import main

raise SystemExit(main())
