"""Escalation and support: tickets, transcripts, who may connect the support channel. Plain Python."""
