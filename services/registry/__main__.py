from libs.runtime.service import serve
from services.registry.entrypoints.app import definition

serve(definition())
