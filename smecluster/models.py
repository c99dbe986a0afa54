"""Every table of the product, imported once so that Base.metadata knows them all."""

from smecluster.registry.models import (  # noqa: F401
    Cluster,
    ClusterMember,
    Designation,
    Enterprise,
    EnterpriseYear,
    Industry,
    Platform,
    Region,
)
from smecluster.registry.profile import EnterpriseProfile  # noqa: F401,E402
