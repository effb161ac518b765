"""Turning grading reports into what people read: the terminal table and Gradescope's results.json."""
