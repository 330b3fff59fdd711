"""Maintenance jobs: thin wrappers around `lynx_core` services, runnable from the command line."""
