"""The one input every fault run gets: a programme, a P3KE extract and nominations in waves.

Deterministic to the byte (event ids, timestamps, keys), so a faulted run and the fault-free run
can be compared. The nominations arrive the way a regency system sends them, on
`lindung.nominations.inbound.v1`, and cover every way a nomination can end:

- `seated`: valid, in cells with room to spare; some are unknown to Dukcapil (the simulator's
  seeded 6 %): EnrollmentFailed, and allocation releases their seats;
- `contested`: valid, for a cell of `CONTESTED_SEATS` seats: the first ones are seated, the rest
  waitlisted. Which ones depends on the order allocation sees them, so all of them are sent on
  one partition of the inbound topic and have worker ids on one partition of the registry topic
  (Kafka keeps order within a partition, whatever the faults), and all are known to Dukcapil
  (a failed enrollment would free a seat at a moment that depends on timing);
- rejected by the registry: desil 3, not in P3KE, too old, birth date not matching the NIK, NIK
  of another regency; and answered `invalid`: a NIK of 14 digits.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from aiokafka.partitioner import murmur2

from libs.events.contracts.registry import NominationSubmitted
from libs.events.envelope import Envelope
from libs.identity import worker_id_for
from libs.nik import compose_nik
from libs.regions import kecamatan_numbers, kecamatan_of_nik
from services.bpjs_simulator.domain.insurer import InsurerBehaviour, nik_not_found
from tests.support.envelopes import envelope_of

PROGRAMME = "FAULT-2026"
COVERAGE_START = date(2026, 1, 1)
PARTITIONS = 4
CONTESTED_CELL = ("12.71", "sawit")
CONTESTED_SEATS = 12
# Cells with room for everyone (regency, sector, occupation).
ROOMY_CELLS = (
    ("12.17", "non_sawit", "petani"),
    ("12.10", "sawit", "pekerja sawit"),
    ("12.04", "non_sawit", "nelayan"),
)
# Per wave: how many nominations of each kind.
WAVE_MIX = {
    "seated": 30,
    "contested": 5,
    "desil_3": 3,
    "not_in_p3ke": 3,
    "too_old": 2,
    "birth_mismatch": 2,
    "other_regency": 1,
    "bad_nik": 2,
}
NAMESPACE = uuid.UUID("6f1d3c2e-5b7a-4c1e-9a0d-3e2f1b4c5d6e")
SENT_AT = datetime(2026, 2, 2, 3, 0, tzinfo=UTC)


def programme_definition() -> dict[str, object]:
    """The programme, as `POST /programmes` takes it: no decree, so assigned workers enroll at once."""
    quotas = [{"regency": r, "sector": s, "seats": 1000} for r, s, _ in ROOMY_CELLS]
    quotas.append({"regency": CONTESTED_CELL[0], "sector": CONTESTED_CELL[1], "seats": CONTESTED_SEATS})
    return {
        "code": PROGRAMME,
        "name": "Uji gangguan: bantuan iuran pekerja rentan 2026",
        "year": 2026,
        "funder": "APBD_PROVINSI",
        "jurisdiction": "12",
        "coverage_start": COVERAGE_START.isoformat(),
        "budget_cap": 20_000_000_000,
        "allowed_deciles": [1, 2],
        "decree_kind": "SK_GUBERNUR",
        "requires_decree": False,
        "quotas": quotas,
    }


def partition_of(key: str, partitions: int = PARTITIONS) -> int:
    """The partition aiokafka's default partitioner picks for `key`."""
    return (murmur2(key.encode()) & 0x7FFFFFFF) % partitions


@dataclass(frozen=True)
class Nomination:
    kind: str
    wave: int
    source_ref: str
    nik: str  # as the regency system writes it
    true_nik: str  # as P3KE and the civil registry know it
    birth: date  # as stated
    sex: str
    regency: str  # the nominating regency
    sector: str
    occupation: str
    desil: int | None  # in the P3KE extract (None: not in it)

    def envelope(self) -> Envelope:
        event = NominationSubmitted(
            programme_code=PROGRAMME,
            nik=self.nik,
            full_name=f"Pekerja {self.source_ref[-5:]}",
            birth_date=self.birth,
            sex=self.sex,
            occupation=self.occupation,
            regency_code=self.regency,
            kecamatan=kecamatan_of_nik(self.nik).name,
            desa="Desa Uji",
            sector=self.sector,
            source_ref=self.source_ref,
        )
        return envelope_of(
            event,
            f"regency-{self.regency}",
            self.source_ref,
            event_id=uuid.uuid5(NAMESPACE, f"event-{self.source_ref}"),
            occurred_at=SENT_AT + timedelta(seconds=self.wave),
            correlation_id=uuid.uuid5(NAMESPACE, f"correlation-{self.source_ref}"),
        )


@dataclass(frozen=True)
class Scenario:
    waves: list[list[Nomination]]

    @property
    def nominations(self) -> list[Nomination]:
        return [n for wave in self.waves for n in wave]

    def p3ke_csv(self) -> bytes:
        rows = sorted({(n.true_nik, n.desil) for n in self.nominations if n.desil is not None})
        return ("nik,desil\n" + "".join(f"{nik},{desil}\n" for nik, desil in rows)).encode()

    def count(self, kind: str) -> int:
        return sum(1 for n in self.nominations if n.kind == kind)


class _People:
    """Fresh, distinct people (NIKs) from a seeded generator."""

    def __init__(self, seed: int, pepper: str, behaviour: InsurerBehaviour) -> None:
        self.rng = random.Random(seed)
        self.pepper = pepper
        self.behaviour = behaviour
        self.serial = 0
        self.seen: set[str] = set()

    def person(self, regency: str, birth: date | None = None) -> tuple[str, date, str]:
        while True:
            self.serial += 1
            sex = self.rng.choice("LP")
            born = birth or date(1966, 1, 1) + timedelta(days=self.rng.randrange(0, 365 * 34))
            # A kecamatan the regency has (the registry refuses others); the same draws as before.
            numbers = kecamatan_numbers(regency)
            nik = compose_nik(
                regency, numbers[(self.rng.randint(1, 20) - 1) % len(numbers)], born, sex, self.serial
            )
            if nik not in self.seen:
                self.seen.add(nik)
                return nik, born, sex

    def contested(self, inbound_partition: int, registry_partition: int) -> tuple[str, date, str, str]:
        """A person for the contested cell: known to Dukcapil, keys on the chosen partitions."""
        regency = CONTESTED_CELL[0]
        while True:
            nik, born, sex = self.person(regency)
            ref = f"SIM-{regency}-{self.serial:05d}"
            if (
                not nik_not_found(nik, self.behaviour)
                and partition_of(ref) == inbound_partition
                and partition_of(worker_id_for(nik, self.pepper)) == registry_partition
            ):
                return nik, born, sex, ref


def build(pepper: str, behaviour: InsurerBehaviour, waves: int = 5, seed: int = 2026) -> Scenario:
    """`waves` waves of `WAVE_MIX` nominations each."""
    people = _People(seed, pepper, behaviour)
    result: list[list[Nomination]] = []
    for wave in range(waves):
        batch: list[Nomination] = []
        for kind, count in WAVE_MIX.items():
            for i in range(count):
                batch.append(_nomination(people, kind, wave, i))
        # Kinds interleaved as a regency's list would be, the same way in every run.
        random.Random(seed * 31 + wave).shuffle(batch)
        result.append(batch)
    return Scenario(result)


def _nomination(people: _People, kind: str, wave: int, i: int) -> Nomination:
    regency, sector, occupation = ROOMY_CELLS[(wave + i) % len(ROOMY_CELLS)]
    desil: int | None = 1 + (i % 2)
    birth_stated: date | None = None
    if kind == "contested":
        regency, sector, occupation = (*CONTESTED_CELL, "pekerja sawit")
        nik, birth, sex, ref = people.contested(inbound_partition=1, registry_partition=2)
        return Nomination(kind, wave, ref, nik, nik, birth, sex, regency, sector, occupation, desil)
    nik_regency = regency
    if kind == "other_regency":
        nik_regency = "12.02" if regency != "12.02" else "12.06"
    nik, birth, sex = people.person(nik_regency, birth=date(1955, 3, 1 + i) if kind == "too_old" else None)
    written = nik
    if kind == "desil_3":
        desil = 3
    elif kind == "not_in_p3ke":
        desil = None
    elif kind == "birth_mismatch":
        birth_stated = birth + timedelta(days=400)
    elif kind == "bad_nik":
        written = nik[:14]
    ref = f"SIM-{regency}-{people.serial:05d}"
    return Nomination(
        kind, wave, ref, written, nik, birth_stated or birth, sex, regency, sector, occupation, desil
    )
