"""A team's live activity: /ws/teams/<id>/. Anonymous users are refused with 4403; a team the user
is not in closes like one that does not exist (4404). Server-to-client only: the page reads the
stored audit trail over HTTP first, then shows what arrives here (each entry carries its id)."""
from __future__ import annotations

from channels.db import database_sync_to_async

from webapp.studio.models import Membership
from webapp.studio.sockets import TeamScopedConsumer

from .activity import team_group


class TeamActivityConsumer(TeamScopedConsumer):
    def setup(self, kwargs):
        self.team_id = int(kwargs["team_id"])

    def group_for(self) -> str:
        return team_group(self.team_id)

    @database_sync_to_async
    def allowed(self, user) -> bool:
        return self.team_id <= 2**62 and Membership.objects.filter(team_id=self.team_id, user=user).exists()

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        if self.group is not None:
            await self.send_json({"kind": "error", "detail": "this socket only sends; read the trail at /api/teams/<id>/activity/"})

    async def team_activity(self, message):
        await self.send_json(message["message"])
