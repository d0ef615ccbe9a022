from libs.runtime.service import serve
from services.allocation.entrypoints.app import definition

serve(definition())
