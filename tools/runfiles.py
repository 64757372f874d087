"""Reading msprune's run files, shared by the table tools in this folder.

Every reader is tolerant: a missing or unreadable file gives None (or an
empty list) and the caller decides whether that is an error; JSON-lines
files may hold progress text between their JSON objects. Standard library
only.
"""
import json


def load_json(path):
    """The JSON document at path, or None if it is missing or not JSON."""
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def json_lines(path):
    """Every line of path that parses as a JSON object, in order ([] if none)."""
    out = []
    try:
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line.startswith("{"):
                    try:
                        out.append(json.loads(line))
                    except ValueError:
                        pass
    except OSError:
        pass
    return out


def last_json(path):
    """The last JSON object line of path, or None."""
    rows = json_lines(path)
    return rows[-1] if rows else None


def sci(v):
    """A strength as people write it: 1e-05 -> 1e-5, 0.001 -> 1e-3, 2.5e-4 -> 2.5e-4, 0 -> 0."""
    if not v:
        return "0"
    m, e = ("%.2e" % v).split("e")
    return "%se%d" % (m.rstrip("0").rstrip("."), int(e))
