"""Exam sittings (考试场次): a paper sat at a set time, for a set duration, once, on a clock learners cannot touch."""
