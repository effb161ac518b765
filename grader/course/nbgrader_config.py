"""nbgrader configuration for the SGD kit's course (see README.md beside this file).

`python -m grader course DIR` copies this file into DIR and fills in KIT_ROOT.
"""

import os

c = get_config()  # noqa: F821 - provided by nbgrader when it reads this file

# The kit's folder (the one holding grader/ and solutions/). The test cells of the notebook
# import the grader from there, and the hidden checks need the reference solution. nbgrader
# runs notebooks in copies outside the kit, so the kernels find it through SGD_KIT_ROOT.
KIT_ROOT = ""
if KIT_ROOT:
    os.environ.setdefault("SGD_KIT_ROOT", KIT_ROOT)

c.CourseDirectory.course_id = "sgd-kit"

# The stub that replaces each solution region: the same as in exercises/sgd.py and exercises/sgd.ipynb.
c.ClearSolutions.code_stub = {
    "python": '# YOUR CODE HERE\nraise NotImplementedError("not implemented yet: see the docstring above")'
}

# nbgrader's default is 30 s per cell; a step's checks take a few seconds, a slow student function longer.
c.Execute.timeout = 300
