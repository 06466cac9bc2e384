"""The applications on top of everything: the command line, the 3D viewer, emulation."""
