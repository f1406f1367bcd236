"""The course as data: reading, checking and keeping the content (moving here from ``course/``; see STYLE).

``lint`` finds item-writing flaws (cues that let a test-wise learner answer without the
knowledge); ``metrics`` measures the bank against the goals ``course validate`` prints.
"""
