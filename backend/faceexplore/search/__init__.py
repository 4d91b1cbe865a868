"""The open-set search: a visitor's sample faces against the gallery's people (searcher), with
the models loaded once (service), candidates to confirm, and what visitors must not see
because of hidden people (withheld).

May import: faceexplore.settings, faceexplore.faces, faceexplore.index and faceexplore.people."""
