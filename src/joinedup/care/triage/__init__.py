"""The single point of access (Centre of Contact): intake, the triage queue and its decisions, telecare alerts, the
vulnerable person protocol, and the measures its manager watches."""
