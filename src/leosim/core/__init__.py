"""The core: geodesy, time, radio maths and the one site-satellite visibility rule.

Pure functions and small immutable values over numpy arrays; imports nothing but numpy,
scipy and sgp4 (import-linter holds this line). SI inside, degrees only in ``_deg`` names.
"""
