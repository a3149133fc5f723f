"""The bottom layer: settings, the database, tokens, translations and time.

Nothing in here knows about leads, quizzes or the web; every other package
may import from here, and this package imports from none of them.
"""
