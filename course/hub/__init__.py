"""A multi-user JupyterHub for the course: OS accounts, course roles, a closed nbgrader exchange."""
