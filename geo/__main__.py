"""``python -m geo``: see geo/cli/__init__.py."""
from geo.cli import finish, main

finish(main())
