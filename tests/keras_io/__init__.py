"""keras.io's example scripts and guides, run with only their imports changed.

The model code in these tests follows the keras-io repository's guides and
examples (https://github.com/keras-team/keras-io, Apache License 2.0, copyright
the Keras authors), shortened and resized as each file says, so that a reader
can compare them line by line with the originals.
"""
