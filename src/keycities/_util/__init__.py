"""Leaf helpers: plain JSON values, numbers and dates as people write them.

Nothing here imports anything else of the package.
"""
