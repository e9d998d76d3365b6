"""A team's live activity: /ws/teams/<id>/. Anonymous users are refused with 4403; a team the user
is not in closes like one that does not exist (4404). Server-to-client only: the page reads the
stored audit trail over HTTP first, then shows what arrives here (each entry carries its id)."""
from __future__ import annotations

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from webapp.studio.models import Membership

from .activity import team_group

FORBIDDEN = 4403
NOT_FOUND = 4404


class TeamActivityConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        self.team_id = int(self.scope["url_route"]["kwargs"]["team_id"])
        self.group = None
        user = self.scope.get("user")
        await self.accept()
        if user is None or not user.is_authenticated:
            await self.close(code=FORBIDDEN)
            return
        if not await self.is_member(user):
            await self.close(code=NOT_FOUND)
            return
        self.group = team_group(self.team_id)
        await self.channel_layer.group_add(self.group, self.channel_name)

    @database_sync_to_async
    def is_member(self, user) -> bool:
        return self.team_id <= 2**62 and Membership.objects.filter(team_id=self.team_id, user=user).exists()

    async def disconnect(self, code):
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        if self.group is not None:
            await self.send_json({"kind": "error", "detail": "this socket only sends; read the trail at /api/teams/<id>/activity/"})

    async def team_activity(self, message):
        await self.send_json(message["message"])
