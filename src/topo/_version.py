"""topo's version, in one place every stage can read without importing the public face."""

__version__ = "0.1.0.dev0"
