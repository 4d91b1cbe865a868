"""A visitor's own choices after a found search ("Remove me", "My photos": routes) and the
organiser's view of the removals. The records are ``faceexplore.site.removals`` and
``faceexplore.site.saved_searches``; the tokens a found answer carries are web/search's.

May import: faceexplore.web.search (a saved search is run again and answered as a search is),
faceexplore.web.gallery, faceexplore.web.session, faceexplore.web.core and the layers below the
web."""
