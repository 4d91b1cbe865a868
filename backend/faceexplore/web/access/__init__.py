"""The event's access code on the web: a visitor's grant (POST /api/access, the QR link's
``?code=``), the gate on search, confirm and downloads, the organiser's code, rotation and QR
poster. Sits on the session and the core; the code itself is ``faceexplore.site.access_code``.
"""
