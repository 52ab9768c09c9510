"""Imported by the readers' forkserver only (``geo.io._isolate``): loads what a reading child
needs and initialises GDAL's PROJ context once, so that every fork inherits both."""
from geo.io._isolate_child import warm_up

warm_up()
