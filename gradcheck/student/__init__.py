"""Validating student implementations of backprop: assignments, isolation, diagnosis, grading.

The flow for one submission (``validate.validate_submission``):

    source (AST checks) ──► sandbox (child process) ──► Hypothesis search per check
        ──► minimal counterexample ──► diagnosis (mutant references) ──► SubmissionResult

Submission code runs only in a child process (``sandbox``); the parent computes every
reference and reads back plain arrays, never pickles.
"""
