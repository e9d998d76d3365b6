"""Family schemas: importing this package registers every node type."""
from videomodels.families import assemblenet, common, evanet, tvn  # noqa: F401

FAMILY_NAMES = ("evanet", "assemblenet", "tvn")
