"""Presentation: the HTML report, the plots and maps, the headline text."""
