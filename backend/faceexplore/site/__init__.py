"""The site's own records, kept apart from the index (which may be deleted and built again while
the site runs): the organiser's sessions and login attempts and the audit log (``store``,
``audit``: ``DATA/site.sqlite3``), and the event's access code (``access_code``:
``DATA/access-code.json``). May import only ``settings``; the web, the command line and the live
watcher record into it.
"""
