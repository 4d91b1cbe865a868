"""Search by sample photos (routes), its answer (results), and candidates to confirm
(candidates).

May import: faceexplore.web.gallery, faceexplore.web.session, faceexplore.web.core and the layers
below the web; never faceexplore.web.people."""
