"""The ``leosim`` command line: one module per command group."""
