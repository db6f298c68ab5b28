"""The receiving service answers (issue 14): provider accounts, their inbox and the minimal
view of a referral, the answer link on the service's copy, and the service's own entry.

Casework owns referrals and their rules; this feature reads them and changes them only
through ``casework.workflow``. It owns the answer links (``answer_token``).
"""
