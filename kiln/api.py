"""The REST API root: every app adds its router here. OpenAPI at /api/v1/openapi.json."""

from ninja import NinjaAPI

from kiln.accounting.api import router as accounting_router
from kiln.accounts.api import router as accounts_router
from kiln.accounts.tokens import token_or_session
from kiln.efficiency.api import router as efficiency_router
from kiln.factors.api import router as factors_router
from kiln.grid.api import router as grid_router
from kiln.incidents.api import router as incidents_router
from kiln.intake.api import router as intake_router
from kiln.ledger.api import router as ledger_router
from kiln.monitoring.api import router as monitoring_router
from kiln.registry.api import router as registry_router
from kiln.reports.api import router as reports_router
from kiln.review.api import router as review_router
from kiln.screening.api import router as screening_router

api = NinjaAPI(
    title="Kiln API",
    version="1",
    urls_namespace="api",
    description="Kiln industrial carbon platform (工业碳平台) REST API.",
    # Bearer API token (`kiln_...`) or the browser session; routers may narrow it.
    auth=token_or_session,
)
api.add_router("/accounts", accounts_router)
api.add_router("/registry", registry_router)
api.add_router("/intake", intake_router)
api.add_router("/factors", factors_router)
api.add_router("/accounting", accounting_router)
api.add_router("/monitoring", monitoring_router)
api.add_router("/efficiency", efficiency_router)
api.add_router("/ledger", ledger_router)
api.add_router("/grid", grid_router)
api.add_router("/screening", screening_router)
api.add_router("/incidents", incidents_router)
api.add_router("/reports", reports_router)
api.add_router("/review", review_router)
