"""Search by sample photos (routes), its answer (results), candidates to confirm (candidates),
and what a found answer offers beyond its photos: the removal and save tokens, and the search's
closing once the retention has passed (actions).

May import: faceexplore.web.gallery, faceexplore.web.session, faceexplore.web.core and the layers
below the web; never faceexplore.web.people."""
