from libs.runtime.service import serve
from services.enrollment.entrypoints.app import definition

serve(definition())
