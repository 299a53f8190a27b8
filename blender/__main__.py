"""Run the blend command: python -m blender."""

from blender.cli import main

main()
