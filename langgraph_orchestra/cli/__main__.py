"""`python -m langgraph_orchestra.cli`: the `orchestra` command."""

from langgraph_orchestra.cli.app import main

main()
