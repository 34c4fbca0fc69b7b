"""Referrals between partners: a ServiceRequest and its Task, sent from a record, received in a team's work list."""
