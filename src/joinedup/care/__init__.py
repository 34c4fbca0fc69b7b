"""Care coordination (referrals, the single point of access, caseloads, huddles; then care plans, programmes and
care homes): the work of integrated care, done through the caller's handle. Decisions 05xx."""
