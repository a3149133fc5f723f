"""Thin views, one module per part of the site; the route table is ``web.routes``."""
