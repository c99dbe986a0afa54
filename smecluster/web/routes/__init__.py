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
    national,
    overview,
    priority,
    public,
    quality,
    targets,
    watch,
    whatif,
)

ROUTERS = [
    public.router,
    auth.router,
    applications.router,
    overview.router,
    targets.router,
    watch.router,
    priority.router,
    national.router,
    whatif.router,
    discovery.router,
    chains.router,
    enterprise.router,
    diagnosis.router,
    quality.router,
    admin.router,
    api.router,
]
