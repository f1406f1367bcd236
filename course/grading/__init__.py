"""Grading: submitted answers files → autograded notebooks and nbgrader gradebook rows.

Quiz answers are data. Grading reads each submission's answers file, scores
it against the content's keys, writes the autograded notebook from the
*released* notebook (never the learner's), and writes exactly the rows that
``nbgrader autograde`` writes. No kernel starts and nothing a learner wrote
is executed, so nothing a learner puts in a notebook can change any score,
file or feedback but their own answers' score.

Modules, in the order data flows through them:

* :mod:`.answers` — read one answers file without trusting it; score it.
* :mod:`.outputs` — the outputs a graded cell shows (answer, key, 解析, score).
* :mod:`.notebook` — the autograded notebook of one submission.
* :mod:`.rows` — the gradebook rows of a batch, diffed against what is there.
* :mod:`.grader` — the run: discover, score in worker processes, one writer.
* :mod:`.preprocessors` — the same grading for plain ``nbgrader autograde``.
* :mod:`.execute` — kernel execution with limits, only on request.
"""
