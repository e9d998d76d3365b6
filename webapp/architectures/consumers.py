"""Live state of one evaluation over a WebSocket: /ws/evaluations/<id>/.

On connect the server sends the evaluation's whole state from the database, then every change
as it happens ({"kind": "evaluation", status, step, steps, loss, accuracy, latency_ms, params,
macs, edge_weights, reason}) and, while an AssembleNet trains, its learned edge weights
({"kind": "weights", step, weights: one number or null per spec edge}). Each state message is
complete, so a message the channel layer drops is repaired by the next one: no replay needed.
Anonymous users are refused with 4403; another team's evaluation looks like a missing one (4404),
as on the experiment socket. The client has nothing to send; anything it sends gets an error.
"""
from __future__ import annotations

from channels.db import database_sync_to_async

from webapp.jobs.publisher import evaluation_group
from webapp.studio.sockets import TeamScopedConsumer

from .evaluations import Evaluation


class EvaluationConsumer(TeamScopedConsumer):
    def setup(self, kwargs):
        self.evaluation_id = int(kwargs["evaluation_id"])

    def target(self):
        return Evaluation.objects.select_related("version__architecture").filter(pk=self.evaluation_id).first() \
            if self.evaluation_id <= 2**63 - 1 else None

    def group_for(self) -> str:
        return evaluation_group(self.evaluation_id)

    async def joined(self, user) -> None:
        await self.send_json(await self.state(user))

    @database_sync_to_async
    def state(self, user) -> dict | None:
        evaluation = Evaluation.objects.for_user(user).filter(pk=self.evaluation_id).first()
        return evaluation.state() if evaluation else None

    async def evaluation_state(self, message):
        await self.send_json(message["state"])

    async def evaluation_weights(self, message):
        await self.send_json({"kind": "weights", "step": message["step"], "weights": message["weights"]})
