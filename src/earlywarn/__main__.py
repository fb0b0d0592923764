"""``python -m earlywarn`` runs the command line."""

from earlywarn.cli import main

main()
