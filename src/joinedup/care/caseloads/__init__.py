"""Caseloads: the people a named worker or a team is responsible for (EpisodeOfCare), and each professional's work."""
