"""Policy: who may do what, in the order the governed call evaluates it.

1. tenant guard    every record an input names must belong to the caller's tenant
2. permissions     the caller's roles and scopes, read fresh from the Kernel
3. risk gate       low runs; medium needs role and scope; high needs an approved request
4. approvals       the lifecycle of drafts and approval requests, and who may decide them
"""
