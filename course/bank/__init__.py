"""The course as data: checks of the question bank that need the whole item, not one field.

``lint`` finds item-writing flaws (cues that let a test-wise learner answer without the
knowledge); ``metrics`` measures the bank against the goals ``course validate`` prints.
"""
