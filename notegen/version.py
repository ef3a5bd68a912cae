"""The version of notegen, recorded in every PDF it makes."""

__version__ = "0.1.0"
