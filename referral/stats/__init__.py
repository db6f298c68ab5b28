"""Anonymized statistics: the annual summary, disclosure control and k-anonymous microdata."""
