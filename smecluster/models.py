"""Every table of the product, imported once so that Base.metadata knows them all."""

from smecluster.accounts.models import Account, LoginSession, SecuritySetting  # noqa: F401
from smecluster.chains.models import ChainDocument, ChainLinkOverride  # noqa: F401
from smecluster.registry.cluster_report import ClusterReport  # noqa: F401
from smecluster.registry.models import (  # noqa: F401
    Cluster,
    ClusterMember,
    ClusterYear,
    Designation,
    Enterprise,
    EnterpriseYear,
    Industry,
    Platform,
    Region,
)
from smecluster.registry.profile import EnterpriseProfile  # noqa: F401
from smecluster.registry.version import RegistryVersion  # noqa: F401
from smecluster.scenarios import SavedScenario  # noqa: F401
from smecluster.workflow.models import (  # noqa: F401
    Application,
    AuditEntry,
    Evidence,
    ExpertReview,
    Transition,
)
from smecluster.workflow.recommendations import NationalRecommendation  # noqa: F401
