"""swe-srl: Supervised Reinforcement Learning for coding agents."""

__version__ = "0.1.0"
