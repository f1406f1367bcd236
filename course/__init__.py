"""Course and grading toolkit for the key-account-manager skill certification.

Data flows one way: content (``course/content``) -> source notebooks
(``source/``) -> nbgrader (release, collect, autograde) -> gradebook ->
tidy frames -> charts and reports.
"""

__version__ = "0.1.0"
