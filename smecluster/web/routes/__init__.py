"""Routers by area; the app includes them in this order."""

from smecluster.web.routes import public

ROUTERS = [public.router]
