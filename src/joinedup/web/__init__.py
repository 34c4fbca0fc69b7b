"""The professional's web app: server-rendered pages (Jinja2, htmx, NHS.UK frontend) that read the record only
through the access gate. `install.install_web(app, settings)` adds the pages, the static files and the session."""
