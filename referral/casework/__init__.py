"""Casework: cases, their screenings and drafts, referrals and referral gaps.

This feature owns those tables and the rules of their life (statuses, transitions, opening
and closing gaps); other features read them, and change them only through its operations.
"""
