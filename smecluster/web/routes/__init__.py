"""Routers by area; the app includes them in this order."""

from smecluster.web.routes import (
    admin,
    api,
    applications,
    auth,
    chains,
    diagnosis,
    discovery,
    enterprise,
    overview,
    public,
    targets,
    whatif,
)

ROUTERS = [
    public.router,
    auth.router,
    applications.router,
    overview.router,
    targets.router,
    whatif.router,
    discovery.router,
    chains.router,
    enterprise.router,
    diagnosis.router,
    admin.router,
    api.router,
]
