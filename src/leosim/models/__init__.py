"""The models on top of the network: link budgets and capacity, service policy, GPS jamming,
exposure of transmitting terminals, the emulation schedule. Pure: they never read files
(import-linter holds this line); the scenario layer and the apps hand them what they need."""
