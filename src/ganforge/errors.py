"""Errors a user can act on.

Every error that reaches a user of the CLI is a ``GanforgeError``: the CLI prints its
message on one line and exits with code 2. The message names the column, file or option
at fault and says what to do about it.
"""


import re
from typing import Callable

#: a parameter named in a message: `dp_epsilon` (shown as dp_epsilon from Python, --dp-epsilon on the
#: command line)
_PARAM = re.compile(r"`([A-Za-z_][A-Za-z0-9_]*)`")


class GanforgeError(ValueError):
    """Base class for every error ganforge raises on purpose.

    A message names the parameters it is about in backquotes (`` `dp_epsilon` ``): ``str(error)``
    shows the plain name, as a Python user passes it; the command line shows its flag
    (``render``)."""

    def __str__(self) -> str:
        return self.render(lambda name: name)

    def render(self, name_of: Callable[[str], str]) -> str:
        """The message with each parameter named by ``name_of(parameter)``."""
        text = str(self.args[0]) if self.args else ""
        return _PARAM.sub(lambda m: name_of(m.group(1)), text)


class DataError(GanforgeError):
    """The input table cannot be used as it is (empty, mixed types, unknown column...)."""


class ConfigError(GanforgeError):
    """An option or preset value is invalid."""


class ModelFileError(GanforgeError):
    """A model or checkpoint file is missing, truncated, corrupted or foreign."""


class TrainingError(GanforgeError):
    """Training diverged (NaN or infinite loss) or cannot go on."""


def shown(name: object) -> str:
    """A column name as the user would type it in an option: plain when it is plain, else quoted
    with escapes, so that a message stays on one line whatever the name holds."""
    text = str(name)
    if text and text.isprintable() and not any(c in text for c in " '\"\\,;=$`"):
        return text
    return repr(text)
