"""Cluster tools: medium risk, they create or update drafts and never touch live records."""

TOOLS: list = []
