"""The sales side (M1-M4, G9, L2): opportunities, territories, trade-show leads, forecast, credit.

Each concern lives in its own module; import what you need from it directly, e.g.
``from crmcore.sales.opportunities import Opportunity``. This package module imports nothing
eagerly, so adding a sales module never slows or breaks ``import crmcore``.
"""
