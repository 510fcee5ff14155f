"""The REST API root: every app adds its router here. OpenAPI at /api/v1/openapi.json."""

from ninja import NinjaAPI

from kiln.intake.api import router as intake_router
from kiln.registry.api import router as registry_router

api = NinjaAPI(
    title="Kiln API",
    version="1",
    urls_namespace="api",
    description="Kiln industrial carbon platform (工业碳平台) REST API.",
)
api.add_router("/registry", registry_router)
api.add_router("/intake", intake_router)
