"""``python -m geo``: see geo/cli/__init__.py."""
import sys

from geo.cli import main

sys.exit(main())
