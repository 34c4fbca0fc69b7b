"""Care coordination (referrals, triage, caseloads, huddles, care plans, programmes, care homes): the domain the
next issues build. For now it declares the capabilities roles.json already grants to its roles (decision 0315)."""
