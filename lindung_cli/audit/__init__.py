"""The audit tool behind `lindung audit ...` (lindung_cli/commands/audit.py assembles its commands).

One module per job: `common` (where it reads, progress bars, the read-only session), `replay`,
`verify`, `checkpoints`, `export`, `point_in_time` (the beneficiaries, coverage and quota
commands), and the answers those give from the events through the services' own rules:
`programme` (a programme's stream folded by allocation's decider), `beneficiaries` and `quota`
(allocation's quota state and budget position), `coverage` (enrollment's coverage ledger).
"""
