"""Participants imported from a spreadsheet (issue 13): placeholder, filled in below."""
