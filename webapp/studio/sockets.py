"""What every team-scoped WebSocket of the studio does on connect, on a change of its user's roles,
and on disconnect.

A refused socket is accepted, then closed with a code the browser can read: 4403 for an
anonymous user, 4404 for an object the user's teams cannot see (another team's looks like a
missing one, as in the API). Otherwise it joins its group and the group ``user.<id>`` of its
user before it is accepted, so the client hears every change from the moment it is connected.

Roles are decided by webapp.teams.roles, at connect and again whenever the user's memberships
change: a membership saved or deleted (a member removed, a role lowered or raised, a team
deleted) sends ``membership.changed`` to ``user.<id>`` after its transaction commits, before the
audit entry that announces it. The socket then asks the decision again: no longer allowed, it
leaves its groups and closes with 4404; still allowed with another role, it says so
({"kind": "access", "role", "can_change"}) so the page can hide what the user may no longer do.
A group message that arrives when the socket is in no group is dropped: nothing reaches someone
who can no longer read it. Subclasses say what is watched (``target``) and which group carries it.
"""
from __future__ import annotations

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from webapp.apikit.parsers import BodyError, loads_checked
from webapp.jobs.publisher import MembershipChanged, send_on_commit, user_group

from webapp.teams.roles import Decision, can, decide

FORBIDDEN = 4403
NOT_FOUND = 4404


def publish_membership_change(user_id: int, team_id: int) -> None:
    """Tell the user's open sockets, after the transaction commits, that their roles changed. Best effort:
    a socket that misses it keeps only what it could read at the time it last decided."""
    send_on_commit(MembershipChanged(user_id, team_id))


class TeamScopedConsumer(AsyncJsonWebsocketConsumer):
    group: str | None = None
    role: str | None = None

    def setup(self, kwargs: dict) -> None:
        """Read the URL's arguments (before anything else runs)."""

    def target(self):
        """The watched object (synchronous, may query), or None when it does not exist."""
        raise NotImplementedError

    def group_for(self) -> str:
        raise NotImplementedError

    async def joined(self, user) -> None:
        """After joining the group: send what a new listener needs first, if anything."""

    @database_sync_to_async
    def decision(self, user) -> tuple[Decision, bool]:
        """(may the user read the target, may they change it), from the one decision."""
        obj = self.target()
        if obj is None:
            return Decision(False, 404, "No such object."), False
        return decide(user, "read", obj), can(user, "change", obj)

    async def connect(self):
        self.group = None
        self.setup(self.scope["url_route"]["kwargs"])
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.accept()
            await self.close(code=FORBIDDEN)
            return
        # The user's group first: a change of roles from here on is heard.
        self.user_group = user_group(user.pk)
        await self.channel_layer.group_add(self.user_group, self.channel_name)
        decision, _ = await self.decision(user)
        if not decision.allowed:
            await self.accept()
            await self.leave(code=NOT_FOUND)
            return
        self.role = decision.role
        # Join, then accept, then read: the client hears of every change from the moment it is connected.
        self.group = self.group_for()
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.joined(user)

    async def leave(self, code: int) -> None:
        """Out of every group at once, then closed."""
        group, self.group = self.group, None
        if group:
            await self.channel_layer.group_discard(group, self.channel_name)
        if getattr(self, "user_group", None):
            await self.channel_layer.group_discard(self.user_group, self.channel_name)
            self.user_group = None
        await self.close(code=code)

    async def disconnect(self, code):
        group, self.group = self.group, None
        if group:
            await self.channel_layer.group_discard(group, self.channel_name)
        if getattr(self, "user_group", None):
            await self.channel_layer.group_discard(self.user_group, self.channel_name)

    async def dispatch(self, message):
        if self.group is None and not message["type"].startswith("websocket."):
            return  # a group message for a socket in no group (refused, or its access ended): nobody may read it
        await super().dispatch(message)

    async def membership_changed(self, message):
        """The user's roles changed somewhere: decide again."""
        decision, may_change = await self.decision(self.scope["user"])
        if not decision.allowed:
            await self.leave(code=NOT_FOUND)
            return
        if decision.role != self.role:
            self.role = decision.role
            await self.send_json({"kind": "access", "role": decision.role, "can_change": may_change})

    # ------------------------------------------------------------------ what clients send
    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        """Every frame goes through the API's one JSON parser (size of nesting, finite numbers, text only,
        every way json.loads can fail): a bad frame gets an error message and the socket stays up."""
        if self.group is None:
            return
        if text_data is None:
            await self.send_json({"kind": "error", "detail": "binary frames are not understood: send JSON text"})
            return
        try:
            content = loads_checked(text_data, max_depth=8)
        except BodyError as error:
            await self.send_json({"kind": "error", "detail": str(error)[:300]})
            return
        await self.receive_json(content)

    async def receive_json(self, content, **kwargs):
        await self.send_json({"kind": "error", "detail": "this socket only sends; nothing to ask"})
