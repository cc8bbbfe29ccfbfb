"""Stand-in modules in sys.modules for as long as a `with` block runs.

Test fixtures pickle checkpoints that name another project's globals (NVIDIA's
`torch_utils.persistence`, pytorch_GAN_zoo's `models.utils.config`); pickle only writes a global
it can import, so stand-ins must be importable while it does, and gone afterwards so that no
other test (or tlgan's own reader) ever finds them.
"""

from __future__ import annotations

import sys
import types
from contextlib import contextmanager
from typing import Iterator, Mapping

_ABSENT = object()
"""What sys.modules held for a name it did not have (None there means "import blocked")."""


@contextmanager
def stand_in_modules(modules: Mapping[str, types.ModuleType]) -> Iterator[None]:
    """Put `modules` (name -> module) into sys.modules; afterwards put back exactly what each
    name held before, or remove it where it held nothing."""
    saved = {name: sys.modules.get(name, _ABSENT) for name in modules}
    sys.modules.update(modules)
    try:
        yield
    finally:
        for name, module in saved.items():
            if module is _ABSENT:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module
