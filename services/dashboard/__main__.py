from libs.runtime.service import serve
from services.dashboard.entrypoints.app import definition

serve(definition())
