"""Running a submission's functions: in this process, or in a sandboxed worker.

Only this package is visible inside the sandbox, so it must not import the rest of
`grader` (checks, rubric, solutions).
"""
