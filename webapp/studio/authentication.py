"""API authentication, in its own module: DRF imports it while api.py is still loading."""
from rest_framework import authentication


class SessionAuthentication(authentication.SessionAuthentication):
    """Django's session (the pages' login) with CSRF; anonymous requests get 401, not 403."""

    def authenticate_header(self, request):
        return 'Session realm="studio"'
