"""Importing this package registers every sandbox route. One module per Wix API area."""

from . import auth  # noqa: F401
from . import catalog  # noqa: F401
