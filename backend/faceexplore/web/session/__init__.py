"""The organiser's session: the password (auth), the site's store of sessions and login
attempts (kept in faceexplore.site.store), GET/POST/DELETE /api/session and the organiser checks (routes).

May import: faceexplore.web.core and the layers below the web."""
