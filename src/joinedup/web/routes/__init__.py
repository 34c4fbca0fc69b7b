"""The web app's routers: sign-in and sign-out, home and person search, the integrated record."""
