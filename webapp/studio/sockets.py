"""What every team-scoped WebSocket of the studio does on connect and disconnect.

The socket is accepted, then closed with a code the browser can read: 4403 for an anonymous
user, 4404 for an object the user's teams cannot see (another team's looks like a missing
one, as in the API). Otherwise it joins its group; subclasses say what may be seen and which
group carries it."""
from __future__ import annotations

from channels.generic.websocket import AsyncJsonWebsocketConsumer

FORBIDDEN = 4403
NOT_FOUND = 4404


class TeamScopedConsumer(AsyncJsonWebsocketConsumer):
    group: str | None = None

    def setup(self, kwargs: dict) -> None:
        """Read the URL's arguments (before anything else runs)."""

    async def allowed(self, user) -> bool:
        raise NotImplementedError

    def group_for(self) -> str:
        raise NotImplementedError

    async def joined(self, user) -> None:
        """After joining the group: send what a new listener needs first, if anything."""

    async def connect(self):
        self.group = None
        self.setup(self.scope["url_route"]["kwargs"])
        user = self.scope.get("user")
        await self.accept()
        if user is None or not user.is_authenticated:
            await self.close(code=FORBIDDEN)
            return
        if not await self.allowed(user):
            await self.close(code=NOT_FOUND)
            return
        # Join first, then read: a change between the two arrives as a message, never lost.
        self.group = self.group_for()
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.joined(user)

    async def disconnect(self, code):
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)
