"""Tests of the smtp, webhook and apprise notifiers against real servers on 127.0.0.1."""
