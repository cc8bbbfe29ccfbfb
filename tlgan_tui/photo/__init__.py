"""Real photographs into the generator: read a photo, align its face the way the generator's
faces are framed, and find the latent whose face looks like it (projection)."""
