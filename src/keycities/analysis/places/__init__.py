"""Places and their features.

Council features, postcode place sets, a user's own places, and peer groups.
"""
