"""The web layer: ``create_app``, the route table, middleware, templating and views.

Views are thin: they parse input, call a rule or a store of the domain
packages, and render; GET renders, POST acts and answers 303.
"""
