"""The same verdicts on a GPU: every check takes a device. Skipped where CUDA is absent."""

from __future__ import annotations

import pytest
import torch
from conftest import corpus_files, corpus_source

from grader import reference
from grader.checks.model import checks_for
from grader.checks.runner import run_check
from grader.frontends.grade import grade_source, open_sandbox
from grader.frontends.selfcheck import submission_for

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]


def test_reference_passes_every_check_on_cuda():
    torch.set_float32_matmul_precision("highest")
    submission = submission_for(reference.SOLUTION)
    failed = {c.id: o.message for c in checks_for() if not (o := run_check(c, submission, device="cuda")).passed}
    assert not failed


def test_sandboxed_cuda_verdicts_match_cpu():
    paths = corpus_files("bugs")[::4] + corpus_files("correct")
    with open_sandbox("cpu") as cpu, open_sandbox("cuda") as gpu:
        assert gpu.device == "cuda"
        for path in paths:
            on_cpu, on_gpu = (grade_source(corpus_source(path), path.name, box) for box in (cpu, gpu))
            assert [g.outcome.passed for g in on_gpu.graded] == [g.outcome.passed for g in on_cpu.graded], path.name
