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
        return one_line(_PARAM.sub(lambda m: name_of(m.group(1)), text))


class DataError(GanforgeError):
    """The input table cannot be used as it is (empty, mixed types, unknown column...)."""


class ConfigError(GanforgeError):
    """An option or preset value is invalid."""


class ModelFileError(GanforgeError):
    """A model or checkpoint file is missing, truncated, corrupted or foreign."""


class TrainingError(GanforgeError):
    """Training diverged (NaN or infinite loss) or cannot go on."""


class GanforgeWarning(UserWarning):
    """Something ganforge did on the user's behalf that they should know of (a file read as Latin-1, a
    row counter dropped): the command line prints it as one ``warning: ...`` line."""


#: control characters (a newline in a column name, a terminal escape) and how a message shows them
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def one_line(text: str) -> str:
    """``text`` with its line breaks and other control characters escaped (``\\n``, ``\\x1b``): a
    message stays on one line, and a name read from a file cannot move the terminal's cursor."""
    return _CONTROL.sub(lambda m: repr(m.group(0))[1:-1], text)


def shown(name: object) -> str:
    """A column name as the user would type it in an option: plain when it is plain, else quoted
    with escapes, so that a message stays on one line whatever the name holds."""
    text = str(name)
    if text and text.isprintable() and not any(c in text for c in " '\"\\,;=$`"):
        return text
    return repr(text)
