"""The network: link rules, routing modes, attachment policies and the router."""
