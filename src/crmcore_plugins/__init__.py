"""Ready adapters for crmcore, each a plugin module registered through the hooks.

- :mod:`crmcore_plugins.storage_memory`: in-memory storage (tests, scratch work)
- :mod:`crmcore_plugins.storage_sqlite`: SQLite storage, the embedded default
- :mod:`crmcore_plugins.notify_log`: a notifier that writes events to :mod:`logging`
- :mod:`crmcore_plugins.notify_smtp`: one e-mail per event (standard library smtplib)
- :mod:`crmcore_plugins.notify_webhook`: signed JSON POSTs, with a receiver-side verifier
- :mod:`crmcore_plugins.notify_apprise`: many chat and push services through apprise
- :mod:`crmcore_plugins.scoring_clv`: lifetime value as a scoring strategy (extra ``clv``)
- :mod:`crmcore_plugins.calendar_toml` and :mod:`crmcore_plugins.calendar_holidays`:
  business calendars from a TOML file or the ``holidays`` package
"""
