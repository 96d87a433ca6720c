"""Reads DIR/.env with python-dotenv's defaults, for tests/export_readers.rs:
    python3 read_env.py DIR...
with python-dotenv on PYTHONPATH. Prints {DIR: {name: value}, ...} as JSON."""
import json
import os
import sys

from dotenv import dotenv_values

print(json.dumps({d: dotenv_values(os.path.join(d, ".env")) for d in sys.argv[1:]}))
