from libs.runtime.service import serve
from services.claims.entrypoints.app import definition

serve(definition())
