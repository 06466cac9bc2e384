"""The ground segment: sites, ground segments and place names; countries; population."""
