"""The instructor's workflow over nbgrader's apps: which assignments a command means, submissions it writes."""
