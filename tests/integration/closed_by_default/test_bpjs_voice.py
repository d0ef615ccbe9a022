"""Outside development mode the BPJS simulator is not BPJS (issue 15, point 8): the claims service,
started as production starts it (LINDUNG_BPJS_PRODUCERS unset), parks a `ClaimPaid` the simulator
signs with its own key, as itself, on BPJS's claims topic: the signature holds, the allow-list
does not. The operator reads why on the dead-letter topic; the claim is nowhere."""

from __future__ import annotations

import uuid
from datetime import date

import httpx

from libs.events import topics
from libs.events.contracts.bpjs import ClaimPaid
from libs.events.signing import Signer, dev_key_id, key_file
from libs.events.topics import PRODUCER_NOT_ALLOWED
from libs.nik import compose_nik
from tests.integration.closed_by_default.conftest import SAMOSIR, Place, answering, bearer
from tests.integration.faults.cluster import ServiceProcess
from tests.running import read_matching
from tests.support.envelopes import envelope_of
from tests.support.kafka import produce


async def test_claims_parks_a_claim_the_simulator_sends_as_itself(
    place: Place, started: list[ServiceProcess]
) -> None:
    proc = place.process("claims", place.closed_env("claims"), "claims-closed")
    started.append(proc)
    proc.start()
    await answering(proc)
    claim_id = f"CLM-SIM-{uuid.uuid4().hex[:8]}"
    event = ClaimPaid(
        claim_id=claim_id,
        kpj=f"KPJ{uuid.uuid4().hex[:10]}",
        nik=compose_nik(SAMOSIR, 3, date(1979, 3, 4), "L", 812),
        programme="JKK",
        benefit_kind="MEDICAL",
        incident_date=date(2026, 5, 2),
        paid_date=date(2026, 5, 20),
        amount=2_500_000,
    )
    sent = envelope_of(event, "bpjs_simulator", f"bpjs-claim-{claim_id}")
    key_id = dev_key_id("bpjs_simulator")
    simulator = Signer.load(key_id, key_file(place.keyring.parent, key_id))
    await produce(place.bootstrap, topics.BPJS_CLAIMS, [(claim_id, sent)], signer=simulator)
    parked = await read_matching(
        place.bootstrap, topics.dead_letter_topic("claims"), lambda r: r.key == claim_id.encode(), 1, 60.0
    )
    assert len(parked) == 1, proc.tail()
    headers = {k: v.decode() for k, v in parked[0].headers}
    assert PRODUCER_NOT_ALLOWED in headers["lindung-error"], headers
    async with httpx.AsyncClient(base_url=proc.url, headers=bearer("admin")) as http:
        assert (await http.get(f"/claims/{claim_id}")).status_code == 404
