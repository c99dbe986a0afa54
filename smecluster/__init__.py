"""smecluster: a province's programme for SME characteristic industrial clusters (中小企业特色产业集群)."""

__version__ = "0.1.0"
