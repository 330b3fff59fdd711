"""Cell tools: high risk, narrow live changes in the Kernel, run only from an approved request."""

TOOLS: list = []
