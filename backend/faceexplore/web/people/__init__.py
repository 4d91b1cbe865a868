"""The people pages and the organiser's corrections (routes), the review queue (review), and photo
details (photos).

May import: faceexplore.web.gallery, faceexplore.web.session, faceexplore.web.core and the layers
below the web; never faceexplore.web.search."""
