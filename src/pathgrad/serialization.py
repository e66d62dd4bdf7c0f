"""pg.save and pg.load: checkpoints in the safetensors format, written atomically, read without
running any code from the file.

A flat dict of tensors (a model's state_dict) is stored under its own keys, so PyTorch's
`safetensors.torch.load_file` reads it as the same state dict. Anything nested (an optimizer's
state, a scheduler's, numbers, strings, lists) is stored as its tensors under dotted keys plus
a JSON outline of the structure in the file's metadata, which pg.load rebuilds. A safetensors
file from elsewhere (no outline) loads as a flat dict of tensors.
"""

from __future__ import annotations

import json
import os
import struct
import tempfile
from typing import Any

import numpy as np

from pathgrad.errors import CheckpointError
from pathgrad.tensor import Tensor, from_array

__all__ = ["CheckpointError", "load", "save"]

OUTLINE_KEY = "pathgrad"
FORMAT_VERSION = 1
# safetensors' own bound on a header; a larger declared length is a corrupt or hostile file
MAX_HEADER_BYTES = 100_000_000
_INSTALL = "pip install 'pathgrad[train]' (or pip install safetensors)"


def _safetensors_numpy() -> Any:
    try:
        import safetensors.numpy as safetensors_numpy
    except ImportError:
        raise ImportError(
            f"pg.save and pg.load store checkpoints with the safetensors package, which is not "
            f"installed: {_INSTALL}"
        ) from None
    return safetensors_numpy


def _encode(value: Any, key: str, tensors: dict[str, np.ndarray]) -> Any:
    """The JSON outline of `value`, its tensors put in `tensors` under dotted keys."""
    if type(value) is Tensor or isinstance(value, np.ndarray):
        array = value._data if type(value) is Tensor else value
        if array.dtype.kind not in "biuf":
            raise TypeError(f"save: cannot store {key!r}: arrays of dtype {array.dtype}")
        if key in tensors:
            raise ValueError(f"save: two values would share the key {key!r}")
        tensors[key] = array if array.flags.c_contiguous else array.copy(order="C")  # 0-d stays 0-d
        return {"__tensor__": key}
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        number = float(value)
        return number if np.isfinite(number) else {"__float__": repr(number)}
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value):
            return {"__dict__": {k: _encode(v, _join(key, k), tensors) for k, v in value.items()}}
        items = []
        for k, v in value.items():
            if not isinstance(k, (str, int)) or isinstance(k, bool):
                raise TypeError(f"save: dict keys must be str or int, got {k!r} in {key!r}")
            items.append([k, _encode(v, _join(key, str(k)), tensors)])
        return {"__items__": items}
    if isinstance(value, (list, tuple)):
        encoded = [_encode(v, _join(key, str(i)), tensors) for i, v in enumerate(value)]
        return {"__tuple__": encoded} if isinstance(value, tuple) else encoded
    if hasattr(value, "detach") and hasattr(value, "numpy"):  # a PyTorch tensor
        return _encode(value.detach().cpu().numpy(), key, tensors)
    raise TypeError(
        f"save: cannot store {key or 'the object'} of type {type(value).__name__}: checkpoints "
        "hold tensors, arrays, numbers, strings, None, and dicts, lists and tuples of them"
    )


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def save(obj: Any, f: Any) -> None:
    """Write `obj` (a state dict, or nested dicts, lists and tuples of tensors, numbers and
    strings) to `f` in the safetensors format. A path is written atomically: a temporary file
    in the same folder, flushed and fsynced, then renamed over the target, so a crash leaves
    the old file or the new one, whole. For example `pg.save(model.state_dict(),
    "model.safetensors")`, then `model.load_state_dict(pg.load("model.safetensors"))`.
    """
    safetensors_numpy = _safetensors_numpy()
    tensors: dict[str, np.ndarray] = {}
    outline = _encode(obj, "", tensors)
    # the outline also for a flat state dict: it keeps the keys' order (PyTorch ignores it)
    document = {"version": FORMAT_VERSION, "outline": outline}
    metadata = {OUTLINE_KEY: json.dumps(document, allow_nan=False)}
    payload = safetensors_numpy.save(tensors, metadata=metadata)
    if hasattr(f, "write"):
        f.write(payload)
        return
    _write_atomically(os.fspath(f), payload)


def _write_atomically(path: str, payload: bytes) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    descriptor, temporary = tempfile.mkstemp(
        prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=folder
    )
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise
    try:  # the rename itself durable: the folder's entry synced
        folder_descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(folder_descriptor)
    except OSError:
        pass
    finally:
        os.close(folder_descriptor)


def _read(f: Any) -> tuple[bytes, str]:
    if hasattr(f, "read"):
        return f.read(), getattr(f, "name", "the file")
    path = os.fspath(f)
    with open(path, "rb") as handle:
        return handle.read(), path


def _check_header(data: bytes, name: str) -> dict:
    """The header, checked before safetensors reads a byte of data: its declared length fits
    the file, it is a JSON object, and every tensor's dtype, shape and offsets agree with each
    other and lie within the file without overlapping."""
    if len(data) < 8:
        raise CheckpointError(
            f"load: {name} is not a safetensors checkpoint (only {len(data)} bytes)"
        )
    (length,) = struct.unpack("<Q", data[:8])
    if length > MAX_HEADER_BYTES or 8 + length > len(data):
        raise CheckpointError(
            f"load: {name} is not a safetensors checkpoint, or is truncated (its header claims "
            f"{length} bytes, the file has {len(data)})"
        )
    try:
        header = json.loads(data[8 : 8 + length].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CheckpointError(f"load: {name} has a corrupt header ({error})") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"load: {name} has a corrupt header (not a JSON object)")
    body = len(data) - 8 - length
    spans = []
    for key, entry in header.items():
        if key == "__metadata__":
            continue
        try:
            dtype, shape, (start, end) = entry["dtype"], entry["shape"], entry["data_offsets"]
            size = _DTYPE_SIZES[dtype]
            count = int(np.prod(shape, dtype=object)) if shape else 1
        except (KeyError, TypeError, ValueError):
            raise CheckpointError(f"load: {name} has a corrupt entry for {key!r}") from None
        if not all(isinstance(n, int) and n >= 0 for n in [*shape, start, end]) or not (
            start <= end <= body and end - start == count * size
        ):
            raise CheckpointError(
                f"load: {name}: tensor {key!r} ({dtype}, shape {shape}) does not match its "
                f"bytes {start}..{end} within the {body} bytes of data"
            )
        spans.append((start, end, key))
    spans.sort()
    for (_, end, key), (start, _, other) in zip(spans, spans[1:]):
        if start < end:
            raise CheckpointError(f"load: {name}: tensors {key!r} and {other!r} overlap")
    return header


_DTYPE_SIZES = {
    "BOOL": 1,
    "U8": 1,
    "I8": 1,
    "I16": 2,
    "U16": 2,
    "F16": 2,
    "BF16": 2,
    "I32": 4,
    "U32": 4,
    "F32": 4,
    "I64": 8,
    "U64": 8,
    "F64": 8,
}


def load(f: Any, map_location: Any = None, weights_only: bool = True, **kwargs: Any) -> Any:
    """Read what pg.save wrote (or any safetensors file, as a flat dict of tensors). Reading
    never runs code from the file; a truncated, altered or foreign file is a CheckpointError
    (a ValueError) naming the file, and nothing larger than the file is allocated.
    `map_location` and `weights_only` are accepted for PyTorch's calls; tensors load on the CPU.
    """
    if map_location is not None and str(map_location).split(":")[0] != "cpu":
        raise RuntimeError(f"load: pathgrad runs on the CPU only, not on {map_location!r}")
    safetensors_numpy = _safetensors_numpy()
    data, name = _read(f)
    header = _check_header(data, name)
    try:
        arrays = safetensors_numpy.load(data)
    except Exception as error:  # noqa: BLE001 - the library's own error types vary by version
        raise CheckpointError(
            f"load: {name} is not a readable safetensors file ({error})"
        ) from None
    metadata = header.get("__metadata__") or {}
    tensors = {key: from_array(np.array(array, copy=True)) for key, array in arrays.items()}
    if OUTLINE_KEY not in metadata:
        return dict(sorted(tensors.items(), key=lambda item: header[item[0]]["data_offsets"]))
    try:
        document = json.loads(metadata[OUTLINE_KEY])
        if document.get("version") != FORMAT_VERSION:
            raise CheckpointError(
                f"load: {name} was written by a pathgrad checkpoint format "
                f"{document.get('version')!r} this version does not read"
            )
        return _decode(document["outline"], tensors, name)
    except CheckpointError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, RecursionError) as error:
        raise CheckpointError(f"load: {name} has a corrupt outline ({error!r})") from None


def _decode(outline: Any, tensors: dict[str, Tensor], name: str) -> Any:
    if outline is None or isinstance(outline, (bool, int, float, str)):
        return outline
    if isinstance(outline, list):
        return [_decode(item, tensors, name) for item in outline]
    if not isinstance(outline, dict) or len(outline) != 1:
        raise CheckpointError(f"load: {name} has a corrupt outline")
    ((kind, content),) = outline.items()
    if kind == "__tensor__":
        if content not in tensors:
            raise CheckpointError(f"load: {name} names a tensor {content!r} it does not hold")
        return tensors[content]
    if kind == "__dict__":
        return {str(k): _decode(v, tensors, name) for k, v in content.items()}
    if kind == "__items__":
        return {_key(k, name): _decode(v, tensors, name) for k, v in content}
    if kind == "__tuple__":
        return tuple(_decode(item, tensors, name) for item in content)
    if kind == "__float__" and content in ("inf", "-inf", "nan"):
        return float(content)
    raise CheckpointError(f"load: {name} has a corrupt outline (unknown entry {kind!r})")


def _key(key: Any, name: str) -> Any:
    if isinstance(key, bool) or not isinstance(key, (str, int)):
        raise CheckpointError(f"load: {name} has a corrupt outline (key {key!r})")
    return key
