"""The names dataset ships inside the package, unchanged, with its provenance note."""

import hashlib
import importlib.resources
import re


def test_names_dataset_ships_with_its_provenance_and_checksum():
    data = importlib.resources.files("pathgrad") / "data"
    note = (data / "README.md").read_text()
    expected = re.search(r"sha256 ([0-9a-f]{64})", note).group(1)
    names = (data / "names.txt").read_bytes()
    assert hashlib.sha256(names).hexdigest() == expected
    words = names.decode().split()
    assert len(words) >= 32_000 and all(re.fullmatch(r"[a-z]+", w) for w in words)
