"""Module and Parameter: PyTorch's torch.nn.Module over pathgrad tensors.

Parameters, buffers and submodules are registered by attribute assignment; state_dict and
load_state_dict use PyTorch's key names, so weights move between the two libraries.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import numpy as np

from pathgrad import modes, versions
from pathgrad.tensor import Tensor, as_tensor, from_array


class _ParameterType(type):
    """isinstance(t, Parameter) is True for the tensors Parameter() made: those are plain
    Tensors (the engine's fast paths test `type(x) is Tensor`), marked as parameters."""

    def __instancecheck__(cls, instance: Any) -> bool:
        return type(instance) is Tensor and instance.__dict__.get("_is_parameter", False)


class Parameter(metaclass=_ParameterType):
    """A tensor that a Module registers as a parameter when assigned to one of its attributes,
    as torch.nn.Parameter; it shares `data`'s memory and requires grad unless told not to.

    >>> w = nn.Parameter(pg.zeros(3))
    >>> w.requires_grad, isinstance(w, nn.Parameter)
    (True, True)
    """

    def __new__(cls, data: Any = None, requires_grad: bool = True) -> Tensor:  # type: ignore[misc]
        if data is None:
            array = np.empty((0,), dtype=np.float32)
        elif type(data) is Tensor:
            array = data._data
        else:
            array = as_tensor(data)._data
        parameter = from_array(array)
        parameter.requires_grad = requires_grad
        parameter._is_parameter = True
        return parameter


def is_parameter(value: Any) -> bool:
    return type(value) is Tensor and value.__dict__.get("_is_parameter", False)


class _IncompatibleKeys(NamedTuple):
    missing_keys: list[str]
    unexpected_keys: list[str]


class RemovableHandle:
    """What register_forward_hook returns: `handle.remove()` takes the hook away."""

    _ids = itertools.count()

    def __init__(self, hooks: dict) -> None:
        self._hooks = hooks
        self.id = next(RemovableHandle._ids)

    def remove(self) -> None:
        self._hooks.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.remove()


def _addindent(text: str, spaces: int) -> str:
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    return lines[0] + "\n" + "\n".join(" " * spaces + line for line in lines[1:])


class Module:
    """Base class of every layer, as torch.nn.Module: subclasses set parameters, buffers and
    submodules as attributes in __init__ and compute in forward(); calling the module runs the
    forward hooks around forward.

    >>> class Net(nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.fc = nn.Linear(3, 1)
    ...     def forward(self, x):
    ...         return self.fc(x).tanh()
    """

    training: bool
    _version = 1

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if args or kwargs:
            raise TypeError(
                f"{type(self).__name__}.__init__() got unexpected arguments: Module.__init__ "
                "takes none"
            )
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers_set", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the "forward" function'
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not self._forward_hooks and not self._forward_pre_hooks:
            return self.forward(*args, **kwargs)
        for hook in list(self._forward_pre_hooks.values()):
            changed = hook(self, args)
            if changed is not None:
                args = changed if isinstance(changed, tuple) else (changed,)
        output = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks.values()):
            changed = hook(self, args, output)
            if changed is not None:
                output = changed
        return output

    # registration

    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"cannot assign {name!r} before Module.__init__() call (call super().__init__() "
                "first)"
            )
        parameters, modules, buffers = self._parameters, self._modules, self._buffers
        if is_parameter(value):
            self._forget(name)
            self.register_parameter(name, value)
        elif isinstance(value, Module):
            self._forget(name)
            self._store(modules, name, value)
        elif name in parameters:
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} as parameter {name!r} "
                    "(nn.Parameter or None expected)"
                )
            self._store(parameters, name, None)
        elif name in modules:
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} as child module {name!r} "
                    "(nn.Module or None expected)"
                )
            self._store(modules, name, None)
        elif name in buffers:
            if value is not None and type(value) is not Tensor:
                raise TypeError(
                    f"cannot assign {type(value).__name__} as buffer {name!r} (a tensor or None "
                    "expected)"
                )
            self._store(buffers, name, value)
        else:
            object.__setattr__(self, name, value)

    def _store(self, table: OrderedDict, name: str, value: Any) -> None:
        """Register `value` in its table and mirror it in the instance's __dict__, so that
        `self.weight` in a forward is a plain attribute read, not a __getattr__ call."""
        table[name] = value
        self.__dict__[name] = value

    def _registered(self, name: str) -> bool:
        return name in self._parameters or name in self._buffers or name in self._modules

    def _forget(self, name: str) -> None:
        self.__dict__.pop(name, None)
        for table in (self._parameters, self._buffers, self._modules):
            table.pop(name, None)
        self._non_persistent_buffers_set.discard(name)

    def __getattr__(self, name: str) -> Any:
        # only called when normal lookup fails: the registered tables
        d = self.__dict__
        for table in ("_parameters", "_buffers", "_modules"):
            if table in d and name in d[table]:
                return d[table][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for table in (self._parameters, self._buffers, self._modules):
            if name in table:
                del table[name]
                self.__dict__.pop(name, None)
                self._non_persistent_buffers_set.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self) -> list[str]:
        return sorted(
            set(super().__dir__()) | set(self._parameters) | set(self._buffers) | set(self._modules)
        )

    def register_parameter(self, name: str, param: Tensor | None) -> None:
        _check_name(name, "parameter", self)
        if param is not None and not is_parameter(param):
            raise TypeError(
                f"cannot assign {type(param).__name__} object to parameter {name!r} "
                "(nn.Parameter or None required)"
            )
        if param is not None and param.grad_fn is not None:
            raise ValueError(
                f"cannot assign non-leaf tensor to parameter {name!r}: a parameter must be a "
                "leaf; make it from .detach()"
            )
        if hasattr(type(self), name) or (name in self.__dict__ and not self._registered(name)):
            raise KeyError(f"attribute {name!r} already exists")
        self._forget(name)
        self._store(self._parameters, name, param)

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        _check_name(name, "buffer", self)
        if tensor is not None and type(tensor) is not Tensor:
            raise TypeError(
                f"cannot assign {type(tensor).__name__} object to buffer {name!r} (a tensor or "
                "None required)"
            )
        taken = name in self.__dict__ or name in self._parameters or name in self._modules
        if taken and name not in self._buffers:
            raise KeyError(f"attribute {name!r} already exists")
        self._store(self._buffers, name, tensor)
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        _check_name(name, "module", self)
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute {name!r} already exists")
        self._store(self._modules, name, module)

    register_module = add_module

    def get_submodule(self, target: str) -> Module:
        module = self
        for part in target.split(".") if target else ():
            if part not in module._modules:
                raise AttributeError(
                    f"{type(module).__name__} has no submodule {part!r} (in {target!r})"
                )
            module = module._modules[part]
        return module

    def get_parameter(self, target: str) -> Tensor:
        path, _, name = target.rpartition(".")
        module = self.get_submodule(path)
        if name not in module._parameters:
            raise AttributeError(f"{type(module).__name__} has no parameter {name!r}")
        return module._parameters[name]

    def get_buffer(self, target: str) -> Tensor:
        path, _, name = target.rpartition(".")
        module = self.get_submodule(path)
        if name not in module._buffers:
            raise AttributeError(f"{type(module).__name__} has no buffer {name!r}")
        return module._buffers[name]

    # walking the tree

    def named_modules(
        self, memo: set | None = None, prefix: str = "", remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Module]]:
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            yield from module.named_modules(
                memo, prefix + ("." if prefix else "") + name, remove_duplicate
            )

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self) -> Iterator[Module]:
        for _, module in self.named_children():
            yield module

    def _named_members(self, table: str, prefix: str, recurse: bool, remove_duplicate: bool = True):
        seen = set()
        modules = (
            self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
            if recurse
            else [(prefix, self)]
        )
        for module_prefix, module in modules:
            for name, value in getattr(module, table).items():
                if value is None:
                    continue
                if remove_duplicate:
                    if id(value) in seen:
                        continue
                    seen.add(id(value))
                yield module_prefix + ("." if module_prefix else "") + name, value

    def named_parameters(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Tensor]]:
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, parameter in self.named_parameters(recurse=recurse):
            yield parameter

    def named_buffers(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Tensor]]:
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    # modes and bulk changes

    def train(self, mode: bool = True) -> Module:
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self) -> Module:
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for parameter in self.parameters():
            parameter.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        for parameter in self.parameters():
            if parameter.grad is None:
                continue
            if set_to_none:
                parameter.grad = None
            else:
                parameter.grad._data[...] = 0

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    def _convert(self, dtype: np.dtype) -> Module:
        """Floating parameters and buffers cast to `dtype`, in place (each tensor stays the same
        object, so an optimizer built on them still holds them), as PyTorch's .to(dtype)."""
        for module in self.modules():
            for table in (module._parameters, module._buffers):
                for tensor in table.values():
                    if tensor is None or tensor._data.dtype.kind != "f":
                        continue
                    if tensor._data.dtype != dtype:
                        tensor._data = tensor._data.astype(dtype)
                        if tensor._grad is not None:
                            tensor._grad = from_array(tensor._grad._data.astype(dtype))
        return self

    def to(self, *args: Any, **kwargs: Any) -> Module:
        """to(dtype), to(device), to(tensor) or to(device, dtype), as PyTorch; devices other
        than the CPU are refused."""
        dtype = kwargs.pop("dtype", None)
        device = kwargs.pop("device", None)
        kwargs.pop("non_blocking", None)
        if kwargs:
            raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
        for arg in args:
            if type(arg) is Tensor:
                dtype = arg._data.dtype
            elif isinstance(arg, str) or arg is None or type(arg).__name__ == "device":
                device = arg
            else:
                dtype = arg
        if device is not None and str(device).split(":")[0] != "cpu":
            raise RuntimeError(f"to: pathgrad runs on the CPU only, not on {device!r}")
        if dtype is not None:
            dtype = np.dtype(dtype)
            if dtype.kind != "f":
                raise TypeError(f"to: nn.Module.to only accepts floating dtypes, got {dtype}")
            self._convert(dtype)
        return self

    def float(self) -> Module:
        return self._convert(np.dtype(np.float32))

    def double(self) -> Module:
        return self._convert(np.dtype(np.float64))

    def half(self) -> Module:
        return self._convert(np.dtype(np.float16))

    def cpu(self) -> Module:
        return self

    def cuda(self, device: Any = None) -> Module:
        raise RuntimeError("cuda: pathgrad runs on the CPU only")

    def type(self, dst_type: Any) -> Module:
        return self._convert(np.dtype(dst_type))

    # hooks

    def register_forward_hook(self, hook: Callable) -> RemovableHandle:
        """hook(module, args, output) runs after forward; a value it returns replaces output."""
        handle = RemovableHandle(self._forward_hooks)
        self._forward_hooks[handle.id] = hook
        return handle

    def register_forward_pre_hook(self, hook: Callable) -> RemovableHandle:
        """hook(module, args) runs before forward; a value it returns replaces the args."""
        handle = RemovableHandle(self._forward_pre_hooks)
        self._forward_pre_hooks[handle.id] = hook
        return handle

    # state

    def state_dict(
        self, *, destination: Any = None, prefix: str = "", keep_vars: bool = False
    ) -> OrderedDict:
        """Parameters and persistent buffers by dotted name (PyTorch's keys), detached and
        sharing memory with the module unless keep_vars."""
        destination = OrderedDict() if destination is None else destination
        for module_prefix, module in self.named_modules(prefix=prefix.rstrip(".")):
            dot = module_prefix + ("." if module_prefix else "")
            for name, parameter in module._parameters.items():
                if parameter is not None:
                    destination[dot + name] = parameter if keep_vars else parameter.detach()
            for name, buffer in module._buffers.items():
                if buffer is not None and name not in module._non_persistent_buffers_set:
                    destination[dot + name] = buffer if keep_vars else buffer.detach()
        return destination

    def _state_tensors(self) -> dict[str, Tensor]:
        return self.state_dict(keep_vars=True)

    def load_state_dict(
        self, state_dict: Any, strict: bool = True, assign: bool = False
    ) -> _IncompatibleKeys:
        """Copy `state_dict`'s values into this module's parameters and buffers (cast to their
        dtypes). With strict, missing and unexpected keys are an error listing them; a
        mis-shaped value is always an error naming the key and both shapes. Values may be
        pathgrad tensors, ndarrays, or anything NumPy reads (a PyTorch CPU tensor)."""
        if not hasattr(state_dict, "keys"):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        own = self._state_tensors()
        missing = [key for key in own if key not in state_dict]
        unexpected = [key for key in state_dict if key not in own]
        errors = []
        if strict:
            if unexpected:
                errors.append(
                    "Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected)
                )
            if missing:
                errors.append(
                    "Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing)
                )
        values = {}
        for key, target in own.items():
            if key not in state_dict:
                continue
            array = _as_array(state_dict[key])
            if array.shape != target._data.shape:
                errors.append(
                    f"size mismatch for {key}: copying a param with shape {array.shape} from "
                    f"checkpoint, the shape in current model is {target._data.shape}."
                )
                continue
            values[key] = array
        if errors:
            raise RuntimeError(
                f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                + "\n\t".join(errors)
            )
        with modes.no_grad():
            for key, array in values.items():
                target = own[key]
                if assign:
                    target._data = np.array(array, dtype=target._data.dtype, copy=True)
                else:
                    target._data[...] = array.astype(target._data.dtype, copy=False)
                versions.record_change(
                    target._base if target._base is not None else target, "load_state_dict", None
                )
        return _IncompatibleKeys(missing, unexpected)

    # printing

    def extra_repr(self) -> str:
        return ""

    def _get_name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        lines = []
        extra = self.extra_repr()
        if extra:
            lines = extra.split("\n")
        for name, module in self._modules.items():
            lines.append(f"({name}): " + _addindent(repr(module), 2))
        main = self._get_name() + "("
        if lines:
            if len(lines) == 1 and not self._modules:
                main += lines[0]
            else:
                main += "\n  " + "\n  ".join(lines) + "\n"
        return main + ")"

    def _replace_modules(self, modules: list) -> None:
        """The children renumbered "0", "1", ... (for the list-like containers)."""
        for name in list(self._modules):
            self.__dict__.pop(name, None)
        self._modules.clear()
        for position, module in enumerate(modules):
            self._store(self._modules, str(position), module)

    def __getstate__(self) -> dict:
        return self.__dict__.copy()

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)


def _check_name(name: Any, what: str, module: Module) -> None:
    if not isinstance(name, str):
        raise TypeError(f"{what} name should be a string, got {type(name).__name__}")
    if not name or "." in name:
        raise KeyError(f'{what} name can\'t be empty or contain ".", got {name!r}')


def _as_array(value: Any) -> np.ndarray:
    if type(value) is Tensor:
        return value._data
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a PyTorch tensor
        value = value.detach().cpu()
    try:
        return np.asarray(value)
    except Exception as error:  # noqa: BLE001 - reported with the value's type
        raise TypeError(
            f"load_state_dict: cannot read a value of type {type(value).__name__}"
        ) from error


__all__ = ["Module", "Parameter", "RemovableHandle"]
