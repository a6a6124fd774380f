"""PLACEHOLDER — being written; see tests/models/test_toolcalls.py."""
