"""Multidisciplinary group (MDG) huddles: the group, its case-finding list and agendas, summaries and actions."""
