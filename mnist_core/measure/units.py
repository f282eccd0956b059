"""Byte units shared by every module that reports memory or copy sizes."""

BYTES_PER_MIB = 1024 * 1024
