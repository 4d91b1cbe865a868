"""The face index: the SQLite store (store/), the gallery walk (gallery), bringing the index up
to date (indexer) with its engines (engines/, worker), the writer lock (locking) and the cache
of thumbnails and face crops (cache).

May import: faceexplore.settings and faceexplore.faces."""
