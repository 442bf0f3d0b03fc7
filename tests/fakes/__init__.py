"""Loopback fakes of the services the gate talks to (HTTP on 127.0.0.1 only)."""
