"""The audit tool behind `lindung audit ...` (lindung_cli/commands/audit.py assembles its commands).

One module per job: `common` (where it reads, progress bars, the read-only session), `replay`,
`verify`, `checkpoints`, `export`, `point_in_time` (beneficiaries, coverage, quota), and the
answers the point-in-time commands give from the events through the services' own domain rules:
`coverage` (enrollment's coverage ledger) and `quota` (allocation's quota state).
"""
