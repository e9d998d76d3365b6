"""Live events of one experiment over a WebSocket: /ws/experiments/<id>/.

Protocol (JSON): the client sends {"type": "replay", "after": N} (N = the last seq it has,
0 at first); the server sends every stored event with seq > N in order, then
{"kind": "replayed", "last_seq": M}, then live events as they are published. Each
event is {"kind": "event", "seq", "type", "payload", "created"}. The server never sends
a seq twice or out of order on one connection: a live event older than what was sent is
dropped, and a gap (a publish lost by the channel layer) is filled from the database
before the newer event goes out. Anonymous users are refused with close code 4403; an
experiment of another team looks exactly like one that does not exist (4404), as in the API;
a user removed from the team while listening is closed with 4404 at once (webapp.studio.sockets).
Frames that are not JSON, binary frames and hostile JSON (too deep, NaN, a 5,000-digit number)
get an error message and the socket stays up.
"""
from __future__ import annotations

from channels.db import database_sync_to_async

from webapp.jobs.publisher import experiment_group

from .models import Event, Experiment
from .sockets import TeamScopedConsumer

REPLAY_CHUNK = 500


class ExperimentConsumer(TeamScopedConsumer):
    def setup(self, kwargs):
        self.experiment_id = int(kwargs["experiment_id"])
        self.last_sent: int | None = None  # None until the client asks for its replay

    def group_for(self) -> str:
        return experiment_group(self.experiment_id)

    def target(self):
        return Experiment.objects.filter(pk=self.experiment_id).first() if self.experiment_id <= 2**63 - 1 else None

    @database_sync_to_async
    def stored(self, after: int, upto: int | None = None) -> list[dict]:
        events = Event.objects.filter(experiment_id=self.experiment_id, seq__gt=after).order_by("seq")
        if upto is not None:
            events = events.filter(seq__lte=upto)
        return [event.message() for event in events[:REPLAY_CHUNK]]

    async def send_stored(self, after: int, upto: int | None = None) -> None:
        while True:
            batch = await self.stored(after, upto)
            for message in batch:
                await self.send_json(message)
                after = self.last_sent = message["seq"]
            if len(batch) < REPLAY_CHUNK:
                return

    async def receive_json(self, content, **kwargs):
        if self.group is None:
            return
        if not isinstance(content, dict) or content.get("type") != "replay":
            await self.send_json({"kind": "error", "detail": 'expected {"type": "replay", "after": <last seq>}'})
            return
        after = content.get("after", 0)
        if not isinstance(after, int) or isinstance(after, bool) or not 0 <= after <= 2**63 - 1:
            await self.send_json({"kind": "error", "detail": "after: must be a whole number from 0 to 2^63-1"})
            return
        # A replay restarts the stream from the client's position.
        self.last_sent = after
        await self.send_stored(after)
        await self.send_json({"kind": "replayed", "last_seq": self.last_sent})

    async def experiment_event(self, message):
        """A live event from the group (see progress.publish)."""
        if self.last_sent is None:
            return  # not subscribed yet: the client's replay will include it
        seq = message["seq"]
        if seq <= self.last_sent:
            return
        if seq > self.last_sent + 1:
            await self.send_stored(self.last_sent, seq - 1)
        await self.send_json(message["event"])
        self.last_sent = seq

    async def experiment_weights(self, message):
        """Learned edge weights of a candidate in training (ephemeral, not stored: no seq)."""
        if self.last_sent is None:
            return
        await self.send_json({"kind": "weights", "candidate": message["candidate"], "step": message["step"],
                              "weights": message["weights"]})
