"""The index's SQLite store: one FaceIndex over photos and faces, clusterings, people and the
organiser's corrections."""
