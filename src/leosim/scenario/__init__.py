"""Scenarios: the TOML schema, the plan built from a scenario, and its sections."""
