"""Where any job is now, over a WebSocket: /ws/jobs/<kind>/<id>/ (an ensemble, an export...).

On connect the server sends the job's state from the database, then every change its kind publishes
(webapp.jobs.kinds.JobKind.changed). Refused like every team-scoped socket: anonymous 4403, another
team's job or an unknown kind 4404."""
from __future__ import annotations

from channels.db import database_sync_to_async

from webapp.jobs.kinds import kind_named
from webapp.jobs.publisher import job_group

from .sockets import TeamScopedConsumer


class JobConsumer(TeamScopedConsumer):
    def setup(self, kwargs):
        self.kind_name, self.job_id = kwargs["kind"], int(kwargs["job_id"])

    def _kind(self):
        try:
            return kind_named(self.kind_name)
        except LookupError:
            return None

    def target(self):
        kind = self._kind()
        if kind is None or self.job_id > 2**62:
            return None
        return kind.model.objects.filter(pk=self.job_id).first()

    def group_for(self) -> str:
        return job_group(self.kind_name, self.job_id)

    async def joined(self, user) -> None:
        await self.send_json(await self.state())

    @database_sync_to_async
    def state(self) -> dict | None:
        job = self.target()
        return self._kind().state(job) if job is not None else None

    async def job_state(self, message):
        await self.send_json(message["state"])
