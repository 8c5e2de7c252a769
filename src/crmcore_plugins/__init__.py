"""Ready adapters for crmcore, each a plugin module registered through the hooks.

- :mod:`crmcore_plugins.storage_memory`: in-memory storage (tests, scratch work)
- :mod:`crmcore_plugins.storage_sqlite`: SQLite storage, the embedded default
- :mod:`crmcore_plugins.notify_log`: a notifier that writes events to :mod:`logging`
"""
