"""The course as data: reading, checking and keeping the content (moving here from ``course/``; see STYLE)."""
