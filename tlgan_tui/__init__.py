"""tlgan-tui: edit GAN-generated faces along named feature axes."""

__version__ = "0.1.0"
