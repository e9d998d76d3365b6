"""ASGI entry point: Django for HTTP, Channels for the experiments' WebSockets (`daphne webapp.asgi:application`)."""
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")
django_asgi_app = get_asgi_application()  # before importing consumers: it sets Django up

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from webapp.architectures.routing import websocket_urlpatterns as architecture_websockets  # noqa: E402
from webapp.review.routing import websocket_urlpatterns as review_websockets  # noqa: E402
from webapp.studio.routing import websocket_urlpatterns as studio_websockets  # noqa: E402

websocket_urlpatterns = studio_websockets + architecture_websockets + review_websockets

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
