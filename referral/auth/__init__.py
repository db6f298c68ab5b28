"""Accounts, sign-in, API tokens and the first-run setup link."""
