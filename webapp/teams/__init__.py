"""Teams: who belongs to which team with which role, invitations, and the one authorisation decision.

The bottom of the apps' chain (teams <- studio <- architectures <- review): it imports none of them.
"""
