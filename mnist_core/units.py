"""Units shared by the measuring code, the run files and the reports (no torch here)."""

BYTES_PER_MIB = 1024 * 1024  # memory and copy sizes are reported in MiB
