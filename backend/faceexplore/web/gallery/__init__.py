"""The gallery's files: photos, thumbnails and face crops (files, thumbnails), signed links
(links), photo and person URLs (urls), zip downloads (download) and uploads (upload).

May import: faceexplore.web.session, faceexplore.web.core and the layers below the web."""
