"""A team's live activity: /ws/teams/<id>/. Anonymous users are refused with 4403; a team the user
is not in closes like one that does not exist (4404), and so does the socket of a member removed
while listening (webapp.studio.sockets). Server-to-client only: the page reads the
stored audit trail over HTTP first, then shows what arrives here (each entry carries its id)."""
from __future__ import annotations

from webapp.jobs.publisher import team_group
from webapp.studio.sockets import TeamScopedConsumer
from webapp.teams.models import Team


class TeamActivityConsumer(TeamScopedConsumer):
    def setup(self, kwargs):
        self.team_id = int(kwargs["team_id"])

    def group_for(self) -> str:
        return team_group(self.team_id)

    def target(self):
        return Team.objects.filter(pk=self.team_id).first() if self.team_id <= 2**62 else None

    async def receive_json(self, content, **kwargs):
        await self.send_json({"kind": "error", "detail": "this socket only sends; read the trail at /api/teams/<id>/activity/"})

    async def team_activity(self, message):
        await self.send_json(message["message"])
