"""The `orchestra` command line: run, resume, inspect and draw teams.

The commands are thin: team files are read and built by `langgraph_orchestra.spec`,
threads are read, resumed and driven by `langgraph_orchestra.threads`; this package
turns flags into decisions (`decisions`) and prints (`rendering`).

Exit codes: 0 done; 1 the run failed (an agent raised); 2 a user mistake (bad team
file, unknown thread, missing API key or extra, unreachable or missing store, a
mistyped or missing option), always one line `error: ...` and a `hint: ...`, never a
traceback; 3 the run waits for a human decision and stdin is not a terminal (the
`orchestra resume ...` command to continue is printed). A batch (`run --batch`) exits
1 if a task failed, else 3 if one waits for a decision.
"""

from langgraph_orchestra.cli.app import (
    DEFAULT_STORE,
    EXIT_FAILED,
    EXIT_USAGE,
    EXIT_WAITING,
    STORE_ENV,
    app,
    main,
)

__all__ = [
    "DEFAULT_STORE",
    "EXIT_FAILED",
    "EXIT_USAGE",
    "EXIT_WAITING",
    "STORE_ENV",
    "app",
    "main",
]
