"""python -m hwsim -> the CLI."""

from hwsim.cli import main

main()
