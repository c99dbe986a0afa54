"""Routers by area; the app includes them in this order."""

from smecluster.web.routes import admin, api, applications, auth, enterprise, overview, public

ROUTERS = [
    public.router,
    auth.router,
    applications.router,
    overview.router,
    enterprise.router,
    admin.router,
    api.router,
]
