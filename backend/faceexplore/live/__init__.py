"""The live gallery: photos indexed as they arrive while the site is up (`faceexplore watch`,
`serve --watch`), new faces joined to people at once, and a background re-clustering when
enough has changed.

May import the layers below it: faceexplore.search, people, index, faces and settings."""
