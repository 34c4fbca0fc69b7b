"""OpenID Connect sign-in with an organisation's identity provider (NHS CIS2 or any OIDC provider), decision 0310."""
