"""Front-ends: how people run the checks (pytest self-check, notebook cells, `grade`, a class)."""
