"""keras.io's example scripts and guides, run with only their imports changed."""
