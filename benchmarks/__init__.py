"""Benchmarks of langgraph-orchestra against hand-written LangGraph graphs.

Run them with `make bench` (or `.venv/bin/python -m benchmarks --help`); see
`benchmarks/README.md` for what is measured and how to read the table. Importing this
package or any of its modules runs nothing: every measurement starts from `main()`.
"""
