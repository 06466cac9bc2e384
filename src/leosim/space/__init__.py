"""The space segment: constellations (Walker shells and real element sets, SGP4) and the
recovery of their structure (shells, planes, the +Grid laser-link pattern)."""
