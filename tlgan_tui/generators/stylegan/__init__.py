"""StyleGAN2 and StyleGAN3: snapshot reading without running code, clean-room networks, layouts."""
