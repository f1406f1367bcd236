"""What a learner's kernel and server import: the answer widgets, answer saving and the scoring rules.

This package holds no course content, answer key, explanation or rubric, and imports nothing
from :mod:`course`: learners' servers run an environment that has it and not the course
(``course hub`` builds that environment from ``course/runtime/``). The grader imports the same
:mod:`course_runtime.scoring`, so widgets, grader and hidden tests share one set of rules.
"""
