"""What each ``blend`` command does, with no command line: :mod:`blender.commands.files` (the commands on
prediction files alone: vote, average, rank-average, a method that does not learn, corr, check),
:mod:`blender.commands.learning` (every learning method, stack and holdout, score and auto) and
:mod:`blender.commands.doctor`. :mod:`blender.cli` parses the command line and calls them; they read,
run a registry entry, report on stderr and write through :mod:`blender.session`.
"""
