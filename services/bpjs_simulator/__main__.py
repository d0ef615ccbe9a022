from libs.runtime.service import serve
from services.bpjs_simulator.entrypoints.app import definition

serve(definition())
