"""The policy engine: rules in code, severities and parameters from a pack in ``policies/``."""
