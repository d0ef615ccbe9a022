"""Audits: replay read models from the log, point-in-time answers, hash-chain verification, export.

Generic over `libs.runtime.service.ServiceDefinition`: callers (the `lindung audit` CLI) pass the
services' definitions in; nothing here imports a service. docs/audit.md tells the rules.
"""
