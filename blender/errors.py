"""The one exception the library raises for bad input."""


class BlendInputError(ValueError):
    """Bad input a user can fix: the message is one line naming the file, id or column and the fix.

    The command line prints it as ``Error: <message>`` and exits with status 1, without a traceback.
    """
