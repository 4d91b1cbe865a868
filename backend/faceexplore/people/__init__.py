"""The people: clustering faces into people (clustering) with the impostor model (impostors) and
the organiser's constraints (constraints), the organiser's corrections (corrections), how
strangers score against people (null_model), and the clustering report (report).

May import: faceexplore.settings, faceexplore.faces and faceexplore.index."""
