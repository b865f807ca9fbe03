"""The WavFusion model (the paper's equations): see README.md, section Model."""
