"""The whole stack for the reconciliation test: the seed tests' stack (registry, allocation,
enrollment, the BPJS simulator, claims and the dashboard in-process through their real lifespans,
one fresh database, this package's own broker, a business clock the test moves)."""

from tests.conftest import package_infra  # noqa: F401  (`infra`: a broker of this package's own)
from tests.integration.seeds.conftest import stack  # noqa: F401  (one stack for the package)
