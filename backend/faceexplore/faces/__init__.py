"""The face pipeline, photo in, faces out: decoding photos (images), the MTCNN detector
(mtcnn, detection), the embedders, the pipeline that chains them, and the embedding models'
measured priors (priors, model_priors.json). Synthetic faces for tests and benchmarks too.

May import: faceexplore.settings and third-party libraries only; never the index, people,
search, live or web layers."""
